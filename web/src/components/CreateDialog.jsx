// Create a token: a name, a lifetime among those the policy allows, and
// optional addresses and services. A refusal is shown next to its field.
import React, { useState } from 'react';
import {
	Alert, Button, Checkbox, Form, FormGroup, FormHelperText, FormSelect, FormSelectOption,
	HelperText, HelperTextItem, Modal, ModalVariant, TextInput,
} from '@patternfly/react-core';
import { defaultLifetime, splitList } from '../format.js';

function Help({ error, children }) {
	return (
		<FormHelperText>
			<HelperText>
				{error
					? <HelperTextItem variant="error" hasIcon>{error}</HelperTextItem>
					: <HelperTextItem>{children}</HelperTextItem>}
			</HelperText>
		</FormHelperText>
	);
}

export function CreateDialog({ client, policy, onError, onCreated, onCancel }) {
	const lifetimes = Array.isArray(policy.lifetimes) ? policy.lifetimes : [];
	const named = Array.isArray(policy.services_allowed_to_name) && policy.services_allowed_to_name.length
		? policy.services_allowed_to_name : null;
	const [name, setName] = useState('');
	const [expires, setExpires] = useState(defaultLifetime(lifetimes));
	const [allowFrom, setAllowFrom] = useState('');
	const [servicesText, setServicesText] = useState('');
	const [picked, setPicked] = useState([]);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);

	const fieldError = f => (error && error.field === f ? error.message : null);
	const otherError = error && !['name', 'expires', 'allow_from', 'service'].includes(error.field) ? error : null;

	const submit = async event => {
		event.preventDefault();
		if (busy)
			return;
		if (name.trim() === '') {
			setError({ field: 'name', message: 'Give the token a name, e.g. what it is for.' });
			return;
		}
		setBusy(true);
		setError(null);
		try {
			const result = await client.create({
				name, expires,
				allowFrom: splitList(allowFrom),
				services: named ? picked : splitList(servicesText),
			});
			onCreated(result);
		} catch (err) {
			setError(onError(err));
			setBusy(false);
		}
	};

	return (
		<Modal variant={ModalVariant.small} isOpen title="Create an API token" onClose={onCancel}
			elementToFocus="#create-name"
			actions={[
				<Button key="create" type="submit" form="create-form" variant="primary"
					isLoading={busy} isDisabled={busy}>Create</Button>,
				<Button key="cancel" variant="link" onClick={onCancel}>Cancel</Button>,
			]}>
			<Form id="create-form" onSubmit={submit} aria-label="Create an API token">
				{otherError && <Alert variant="danger" isInline title={otherError.message} />}
				<FormGroup label="Name" isRequired fieldId="create-name">
					<TextInput id="create-name" isRequired value={name} maxLength={200}
						onChange={(_e, v) => setName(v)}
						validated={fieldError('name') ? 'error' : 'default'} />
					<Help error={fieldError('name')}>What the token is for, e.g. "mail on my phone".</Help>
				</FormGroup>
				<FormGroup label="Lifetime" fieldId="create-expires" isRequired>
					{lifetimes.length > 0
						? <FormSelect id="create-expires" value={expires} onChange={(_e, v) => setExpires(v)}
							validated={fieldError('expires') ? 'error' : 'default'}>
							{lifetimes.map(l => <FormSelectOption key={l.value} value={l.value} label={l.label} />)}
						</FormSelect>
						: <p id="create-expires">As the policy sets.</p>}
					<Help error={fieldError('expires')}>
						{policy.max_lifetime && policy.max_lifetime !== 'never'
							? `Your policy allows at most ${policy.max_lifetime}.`
							: 'Only the lifetimes your policy allows are offered.'}
					</Help>
				</FormGroup>
				<FormGroup label="Allowed addresses (optional)" fieldId="create-allow-from">
					<TextInput id="create-allow-from" value={allowFrom} onChange={(_e, v) => setAllowFrom(v)}
						placeholder="e.g. 192.0.2.10, 10.0.0.0/8, local"
						validated={fieldError('allow_from') ? 'error' : 'default'} />
					<Help error={fieldError('allow_from')}>
						Addresses or networks the token may be used from, separated by commas or spaces.
						Empty: wherever the policy allows.
					</Help>
				</FormGroup>
				{named
					? <FormGroup label="Services (optional)" fieldId="create-services" role="group" isStack>
						{named.map(s => (
							<Checkbox key={s} id={`create-service-${s}`} label={s} isChecked={picked.includes(s)}
								onChange={(_e, on) => setPicked(p => (on ? [...p, s] : p.filter(x => x !== s)))} />
						))}
						<Help error={fieldError('service')}>None ticked: every service the policy allows.</Help>
					</FormGroup>
					: <FormGroup label="Services (optional)" fieldId="create-services">
						<TextInput id="create-services" value={servicesText}
							onChange={(_e, v) => setServicesText(v)} placeholder="e.g. imap, smtp"
							validated={fieldError('service') ? 'error' : 'default'} />
						<Help error={fieldError('service')}>
							PAM services the token may open, separated by commas or spaces.
							Empty: every service the policy allows.
						</Help>
					</FormGroup>}
			</Form>
		</Modal>
	);
}
