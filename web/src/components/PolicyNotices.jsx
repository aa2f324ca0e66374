// What the policy says about this person, in words: an import-only host,
// why they may hold no tokens, how many they hold, how long tokens may live.
import React from 'react';
import { Alert } from '@patternfly/react-core';

export function PolicyNotices({ policy }) {
	const importOnly = policy.role === 'import-only';
	const items = [];
	if (importOnly) {
		items.push(
			<Alert key="import" variant="info" isInline data-testid="import-only"
				title="This host only receives tokens from the authority host">
				Tokens are created, rotated and re-enabled on the authority host. Here you can
				still revoke or disable a token, for example one that leaked.
			</Alert>);
	}
	if (policy.may_hold !== true) {
		items.push(
			<Alert key="why" variant="warning" isInline data-testid="why-not"
				title="You cannot create API tokens">
				{typeof policy.why_not === 'string' && policy.why_not !== ''
					? policy.why_not
					: 'Your account is not permitted to hold API tokens. Ask an administrator if you need one.'}
			</Alert>);
	}
	const facts = [];
	if (policy.may_hold === true && !importOnly) {
		if (Number.isInteger(policy.max_tokens_per_user))
			facts.push(`You hold ${policy.tokens_held ?? 0} of at most ${policy.max_tokens_per_user} tokens.`);
		if (policy.max_lifetime && policy.max_lifetime !== 'never')
			facts.push(`A token lives at most ${policy.max_lifetime}.`);
		if (Array.isArray(policy.deny_services) && policy.deny_services.length)
			facts.push(`Tokens never open: ${policy.deny_services.join(', ')}.`);
	}
	return (
		<>
			{items.map((it, i) => <div key={i} className="pf-v5-u-mb-sm">{it}</div>)}
			{facts.length > 0 && <p className="apitoken-muted" data-testid="policy-facts">{facts.join(' ')}</p>}
		</>
	);
}
