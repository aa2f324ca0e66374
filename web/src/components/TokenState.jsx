// A token's state as a label, with the reason tokenadm gives (why it is
// deactivated, who disabled it, ...).
import React from 'react';
import { Label } from '@patternfly/react-core';
import { stateWords } from '../format.js';

const COLORS = { active: 'green', expired: 'grey', revoked: 'red', disabled: 'orange', inactive: 'gold' };

export function TokenState({ token }) {
	const reason = typeof token.reason === 'string' && token.reason !== '' ? token.reason : null;
	return (
		<>
			<Label color={COLORS[token.state] || 'grey'} data-testid="token-state">{stateWords(token.state)}</Label>
			{token.state === 'disabled' && token.disabled_by_admin === true && !reason && (
				<div className="apitoken-muted">by an administrator</div>
			)}
			{reason && <div className="apitoken-muted" data-testid="token-reason">{reason}</div>}
		</>
	);
}
