// Revoking cannot be undone: confirm, naming the token.
import React, { useState } from 'react';
import { Alert, Button, Modal, ModalVariant } from '@patternfly/react-core';

export function RevokeDialog({ client, token, onError, onRevoked, onCancel }) {
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const revoke = async () => {
		setBusy(true);
		setError(null);
		try {
			await client.revoke(token.id);
			onRevoked(token);
		} catch (err) {
			setError(onError(err));
			setBusy(false);
		}
	};
	return (
		<Modal variant={ModalVariant.small} isOpen titleIconVariant="danger" onClose={onCancel}
			title={`Revoke "${token.name}"?`}
			actions={[
				<Button key="revoke" variant="danger" onClick={revoke} isLoading={busy} isDisabled={busy}>
					Revoke
				</Button>,
				<Button key="cancel" variant="link" onClick={onCancel}>Cancel</Button>,
			]}>
			{error && <Alert variant="danger" isInline title={error.message} className="pf-v5-u-mb-md" />}
			<p>
				The token <strong>{token.name}</strong> (<span className="apitoken-mono">{token.id}</span>)
				{token.user ? ` of ${token.user}` : ''} stops working at once, everywhere it is used.
				This cannot be undone.
			</p>
		</Modal>
	);
}
