// Rotate: a new value for the same token; the old one keeps working for the
// grace chosen here (tokenadm allows at most 30 days).
import React, { useState } from 'react';
import {
	Alert, Button, Form, FormGroup, FormHelperText, FormSelect, FormSelectOption, HelperText,
	HelperTextItem, Modal, ModalVariant,
} from '@patternfly/react-core';

const GRACES = [['', 'None: the old value stops now'], ['1h', '1 hour'], ['1d', '1 day'],
	['7d', '7 days'], ['30d', '30 days']];

export function RotateDialog({ client, token, onError, onRotated, onCancel }) {
	const [grace, setGrace] = useState('1d');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const submit = async event => {
		event.preventDefault();
		if (busy)
			return;
		setBusy(true);
		setError(null);
		try {
			onRotated(await client.rotate(token.id, grace));
		} catch (err) {
			setError(onError(err));
			setBusy(false);
		}
	};
	return (
		<Modal variant={ModalVariant.small} isOpen onClose={onCancel} title={`Rotate "${token.name}"?`}
			elementToFocus="#rotate-grace"
			actions={[
				<Button key="rotate" type="submit" form="rotate-form" variant="primary" isLoading={busy}
					isDisabled={busy}>Rotate</Button>,
				<Button key="cancel" variant="link" onClick={onCancel}>Cancel</Button>,
			]}>
			{error && error.field !== 'grace' && <Alert variant="danger" isInline title={error.message} className="pf-v5-u-mb-md" />}
			<Form id="rotate-form" onSubmit={submit} aria-label={`Rotate ${token.name}`}>
				<p>
					The token <strong>{token.name}</strong> (<span className="apitoken-mono">{token.id}</span>) gets a
					new value, shown once. Its name, lifetime and limits stay.
				</p>
				<FormGroup label="Old value keeps working for" fieldId="rotate-grace">
					<FormSelect id="rotate-grace" value={grace} onChange={(_e, v) => setGrace(v)}
						validated={error && error.field === 'grace' ? 'error' : 'default'}>
						{GRACES.map(([v, l]) => <FormSelectOption key={v} value={v} label={l} />)}
					</FormSelect>
					<FormHelperText>
						<HelperText>
							{error && error.field === 'grace'
								? <HelperTextItem variant="error" hasIcon>{error.message}</HelperTextItem>
								: <HelperTextItem>Time to put the new value everywhere the old one is used.</HelperTextItem>}
						</HelperText>
					</FormHelperText>
				</FormGroup>
			</Form>
		</Modal>
	);
}
