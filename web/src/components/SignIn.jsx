// Sign-in with the account password. The password lives in this form's
// state only while typed; it is cleared as soon as it is sent.
import React, { useRef, useState } from 'react';
import {
	ActionGroup, Alert, Button, Card, CardBody, CardTitle, Form, FormGroup, FormHelperText,
	HelperText, HelperTextItem, PageSection, TextInput, Title,
} from '@patternfly/react-core';

export function SignIn({ onSignIn, message }) {
	const [user, setUser] = useState('');
	const [password, setPassword] = useState('');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const passwordInput = useRef(null);

	const submit = async event => {
		event.preventDefault();
		if (busy)
			return;
		const pw = password;
		setPassword('');
		setError(null);
		setBusy(true);
		try {
			await onSignIn(user, pw);
		} catch (err) {
			if (err.kind !== 'signed-out')
				setError(err);
			setBusy(false);
			// Ready for the next try without the mouse.
			if (passwordInput.current && err.field !== 'user')
				passwordInput.current.focus();
		}
	};

	const shown = error ? error.message : message;
	return (
		<PageSection>
			<Card className="apitoken-signin">
				<CardTitle><Title headingLevel="h2">Sign in</Title></CardTitle>
				<CardBody>
					<p className="pf-v5-u-mb-md">
						Sign in with your account password to see and manage your API tokens.
						An API token does not open this page.
					</p>
					{shown && (
						<Alert variant="danger" isInline isPlain title={shown} className="pf-v5-u-mb-md"
							aria-live="assertive" data-testid="signin-error" />
					)}
					<Form onSubmit={submit} aria-label="Sign in">
						<FormGroup label="User name" isRequired fieldId="signin-user">
							<TextInput id="signin-user" name="username" autoComplete="username" isRequired
								value={user} onChange={(_e, v) => setUser(v)} autoFocus
								validated={error && error.field === 'user' ? 'error' : 'default'} />
						</FormGroup>
						<FormGroup label="Password" isRequired fieldId="signin-password">
							<TextInput id="signin-password" ref={passwordInput} name="password" type="password" isRequired
								autoComplete="current-password" value={password}
								onChange={(_e, v) => setPassword(v)}
								validated={error && error.field === 'password' ? 'error' : 'default'} />
							<FormHelperText>
								<HelperText><HelperTextItem>Kept in this tab's memory only, until you sign out or close the tab.</HelperTextItem></HelperText>
							</FormHelperText>
						</FormGroup>
						<ActionGroup>
							<Button type="submit" variant="primary" isLoading={busy} isDisabled={busy}>Sign in</Button>
						</ActionGroup>
					</Form>
				</CardBody>
			</Card>
		</PageSection>
	);
}
