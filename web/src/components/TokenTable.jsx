// The token list. Which actions a row offers follows the policy: an
// import-only host keeps revoke and disable only.
import React from 'react';
import {
	Bullseye, Button, EmptyState, EmptyStateBody, EmptyStateHeader, Flex, Label, Spinner,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import ExclamationTriangleIcon from '@patternfly/react-icons/dist/esm/icons/exclamation-triangle-icon';
import { TokenState } from './TokenState.jsx';
import { TimeText } from './TimeText.jsx';
import { expiresSoon, formatDate, formatTime, relativeTime } from '../format.js';

function Expires({ token, warning }) {
	if (!token.expires)
		return <span>never</span>;
	if (expiresSoon(token, warning)) {
		return (
			<time dateTime={token.expires} title={formatTime(token.expires)} data-testid="expires-soon">
				<Label color="orange" icon={<ExclamationTriangleIcon />}>{formatDate(token.expires)}</Label>
				<div>expires {relativeTime(token.expires)}</div>
			</time>
		);
	}
	return <TimeText iso={token.expires} />;
}

function LastUsed({ token }) {
	if (!token.last_used)
		return <span className="apitoken-muted">never used</span>;
	return (
		<>
			<TimeText iso={token.last_used} />
			{token.last_rhost && <div>from <span className="apitoken-mono">{token.last_rhost}</span></div>}
		</>
	);
}

function Limits({ token }) {
	const parts = [];
	if (Array.isArray(token.services) && token.services.length)
		parts.push(<div key="s">services: {token.services.join(', ')}</div>);
	if (Array.isArray(token.allow_from) && token.allow_from.length)
		parts.push(<div key="a">from: <span className="apitoken-mono">{token.allow_from.join(', ')}</span></div>);
	if (Array.isArray(token.deny_from) && token.deny_from.length)
		parts.push(<div key="d">not from: <span className="apitoken-mono">{token.deny_from.join(', ')}</span></div>);
	return parts.length ? parts : <span className="apitoken-muted">none</span>;
}

function Actions({ token, policy, onRevoke, onRotate, onDisable, onEnable }) {
	const importOnly = policy.role === 'import-only';
	const who = `${token.name} (${token.id})`;
	const buttons = [];
	if (!importOnly && token.state === 'active')
		buttons.push(<Button key="rotate" variant="secondary" size="sm" aria-label={`Rotate ${who}`}
			onClick={() => onRotate(token)}>Rotate</Button>);
	if (token.state === 'active')
		buttons.push(<Button key="disable" variant="secondary" size="sm" aria-label={`Disable ${who}`}
			onClick={() => onDisable(token)}>Disable</Button>);
	// A token an administrator disabled is theirs to enable again.
	if (!importOnly && token.state === 'disabled' && (policy.admin === true || token.disabled_by_admin !== true))
		buttons.push(<Button key="enable" variant="secondary" size="sm" aria-label={`Enable ${who}`}
			onClick={() => onEnable(token)}>Enable</Button>);
	if (token.state !== 'revoked')
		buttons.push(<Button key="revoke" variant="danger" size="sm" aria-label={`Revoke ${who}`}
			onClick={() => onRevoke(token)}>Revoke</Button>);
	return <Flex spaceItems={{ default: 'spaceItemsSm' }} flexWrap={{ default: 'nowrap' }}>{buttons}</Flex>;
}

export function TokenTable({ tokens, loading, policy, ...handlers }) {
	if (tokens === null) {
		return <Bullseye><Spinner aria-label="Loading tokens" /></Bullseye>;
	}
	if (tokens.length === 0) {
		return (
			<EmptyState data-testid="no-tokens">
				<EmptyStateHeader titleText="No tokens" headingLevel="h3" />
				<EmptyStateBody>
					{policy.admin ? 'No token matches these filters.' : 'You have no API tokens yet.'}
				</EmptyStateBody>
			</EmptyState>
		);
	}
	const admin = policy.admin === true;
	const warning = policy.expiry_warning_seconds;
	return (
		<Table aria-label="API tokens" variant="compact" className="apitoken-table" aria-busy={loading}
			data-testid="token-table">
			<Thead>
				<Tr>
					<Th>Name</Th>
					<Th>ID</Th>
					{admin && <Th>User</Th>}
					<Th>Created</Th>
					<Th>Expires</Th>
					<Th>Last used</Th>
					<Th>State</Th>
					<Th>Limits</Th>
					<Th screenReaderText="Actions" />
				</Tr>
			</Thead>
			<Tbody>
				{tokens.map(t => (
					<Tr key={t.id} data-token-id={t.id}>
						<Td dataLabel="Name">{t.name}</Td>
						<Td dataLabel="ID"><span className="apitoken-mono apitoken-id">{t.id}</span></Td>
						{admin && <Td dataLabel="User">{t.user}</Td>}
						<Td dataLabel="Created"><TimeText iso={t.created} empty="unknown" /></Td>
						<Td dataLabel="Expires"><Expires token={t} warning={warning} /></Td>
						<Td dataLabel="Last used"><LastUsed token={t} /></Td>
						<Td dataLabel="State"><TokenState token={t} /></Td>
						<Td dataLabel="Limits"><Limits token={t} /></Td>
						<Td dataLabel="Actions" isActionCell><Actions token={t} policy={policy} {...handlers} /></Td>
					</Tr>
				))}
			</Tbody>
		</Table>
	);
}
