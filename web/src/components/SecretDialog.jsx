// The new token value, shown once. Closing the dialog (Done, the X or
// Escape) calls onClose, which drops the value from the page's state; the
// dialog unmounts and the value leaves the DOM.
import React from 'react';
import { Alert, Button, DescriptionList, DescriptionListDescription, DescriptionListGroup,
	DescriptionListTerm, Modal, ModalVariant } from '@patternfly/react-core';
import { CopyField } from './CopyField.jsx';
import { formatTime } from '../format.js';

export function SecretDialog({ secret, onClose }) {
	const rotated = secret.kind === 'rotate';
	return (
		<Modal variant={ModalVariant.medium} isOpen onClose={onClose}
			title={rotated ? `New value for "${secret.name}"` : `Your new token "${secret.name}"`}
			elementToFocus="#secret-value" data-testid="secret-dialog"
			actions={[<Button key="done" variant="primary" onClick={onClose}>Done</Button>]}>
			<Alert variant="warning" isInline title="Copy the token now: it is shown only this once"
				className="pf-v5-u-mb-md">
				Once you close this dialog, the token cannot be shown again, by this page or by an
				administrator. Keep it somewhere safe, such as a password manager. Anyone who has it
				can use it as you. If it is lost, rotate or revoke it.
			</Alert>
			<CopyField id="secret-value" value={secret.token} label="Token value" />
			<DescriptionList isHorizontal isCompact className="pf-v5-u-mt-md">
				<DescriptionListGroup>
					<DescriptionListTerm>ID</DescriptionListTerm>
					<DescriptionListDescription><span className="apitoken-mono">{secret.id}</span></DescriptionListDescription>
				</DescriptionListGroup>
				<DescriptionListGroup>
					<DescriptionListTerm>Expires</DescriptionListTerm>
					<DescriptionListDescription>{secret.expires ? formatTime(secret.expires) : 'never'}</DescriptionListDescription>
				</DescriptionListGroup>
				{rotated && (
					<DescriptionListGroup>
						<DescriptionListTerm>Previous value</DescriptionListTerm>
						<DescriptionListDescription>
							{secret.previous_valid_until
								? `keeps working until ${formatTime(secret.previous_valid_until)}`
								: 'has stopped working'}
						</DescriptionListDescription>
					</DescriptionListGroup>
				)}
			</DescriptionList>
		</Modal>
	);
}
