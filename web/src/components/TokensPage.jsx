// The signed-in page: notices from the policy, the admin's filters, the
// token table, and the dialogs. Every server call goes through `client`.
import React, { useCallback, useEffect, useState } from 'react';
import {
	Alert, AlertActionCloseButton, AlertGroup, Button, PageSection, Title,
} from '@patternfly/react-core';
import { PolicyNotices } from './PolicyNotices.jsx';
import { AdminFilters, EMPTY_FILTERS } from './AdminFilters.jsx';
import { TokenTable } from './TokenTable.jsx';
import { CreateDialog } from './CreateDialog.jsx';
import { SecretDialog } from './SecretDialog.jsx';
import { RevokeDialog } from './RevokeDialog.jsx';
import { RotateDialog } from './RotateDialog.jsx';
import { PolicyView } from './PolicyView.jsx';

// tokenadm filters and stops at the limit: the page never asks for 100,000
// rows at once.
export const PAGE_SIZE = 200;

let noticeSeq = 0;

export function TokensPage({ client, policy, onError, onPolicyChanged }) {
	const admin = policy.admin === true;
	const importOnly = policy.role === 'import-only';
	const mayCreate = policy.may_hold === true && !importOnly;

	const [filters, setFilters] = useState(EMPTY_FILTERS);
	const [limit, setLimit] = useState(PAGE_SIZE);
	const [tokens, setTokens] = useState(null);
	const [loading, setLoading] = useState(true);
	const [listError, setListError] = useState(null);
	const [dialog, setDialog] = useState(null);	// {type, token?}
	const [secret, setSecret] = useState(null);	// the value shown once
	const [notices, setNotices] = useState([]);
	const [reloadKey, setReloadKey] = useState(0);

	const reload = useCallback(() => setReloadKey(k => k + 1), []);

	useEffect(() => {
		let live = true;
		setLoading(true);
		const query = { limit };
		if (admin) {
			if (filters.user)
				query.user = filters.user;
			else
				query.all = true;
			query.state = filters.state;
			query.expiringWithin = filters.expiringWithin;
			query.unusedFor = filters.unusedFor;
		}
		client.list(query).then(rows => {
			if (!live)
				return;
			setTokens(Array.isArray(rows) ? rows : []);
			setListError(null);
			setLoading(false);
		}, err => {
			if (!live)
				return;
			setListError(onError(err));
			setLoading(false);
		});
		return () => { live = false; };
	}, [client, admin, filters, limit, reloadKey, onError]);

	const notify = useCallback((variant, title) => {
		const key = ++noticeSeq;
		setNotices(n => [...n, { key, variant, title }]);
	}, []);

	// disable / enable: reversible, so no confirmation.
	const change = useCallback(async (action, token) => {
		try {
			await client[action](token.id);
			notify('success', `Token "${token.name}" ${action === 'disable' ? 'disabled' : 'enabled'}.`);
		} catch (err) {
			const e = onError(err);
			if (e)
				notify('danger', e.message);
		}
		reload();
	}, [client, notify, onError, reload]);

	const closeSecret = useCallback(() => {
		// Drop the only reference the page holds to the value: the dialog
		// unmounts and the text leaves the DOM with it.
		setSecret(null);
	}, []);

	const onCreated = useCallback(result => {
		setDialog(null);
		setSecret({ kind: 'create', ...result });
		reload();
		onPolicyChanged();
	}, [reload, onPolicyChanged]);

	const onRotated = useCallback(result => {
		setDialog(null);
		setSecret({ kind: 'rotate', ...result });
		reload();
	}, [reload]);

	const onRevoked = useCallback(token => {
		setDialog(null);
		notify('success', `Token "${token.name}" revoked.`);
		reload();
		onPolicyChanged();
	}, [notify, reload, onPolicyChanged]);

	const truncated = tokens !== null && tokens.length >= limit;

	return (
		<>
			<AlertGroup isToast isLiveRegion>
				{notices.map(n => (
					<Alert key={n.key} variant={n.variant} title={n.title} timeout={8000}
						onTimeout={() => setNotices(all => all.filter(x => x.key !== n.key))}
						actionClose={<AlertActionCloseButton title={n.title}
							onClose={() => setNotices(all => all.filter(x => x.key !== n.key))} />} />
				))}
			</AlertGroup>
			<PageSection variant="light">
				<Title headingLevel="h2" className="pf-v5-u-mb-md">
					{admin ? 'All API tokens' : 'Your API tokens'}
				</Title>
				<PolicyNotices policy={policy} />
				{mayCreate && (
					<Button variant="primary" onClick={() => setDialog({ type: 'create' })}
						className="pf-v5-u-mt-md" data-testid="create-button">Create token</Button>
				)}
			</PageSection>
			<PageSection>
				{admin && <AdminFilters value={filters} onApply={f => { setLimit(PAGE_SIZE); setFilters(f); }} />}
				{listError
					? <Alert variant="danger" isInline title={listError.message}
						actionLinks={<Button variant="link" isInline onClick={reload}>Try again</Button>} />
					: <TokenTable tokens={tokens} loading={loading} policy={policy}
						onRevoke={t => setDialog({ type: 'revoke', token: t })}
						onRotate={t => setDialog({ type: 'rotate', token: t })}
						onDisable={t => change('disable', t)}
						onEnable={t => change('enable', t)} />}
				{truncated && !listError && (
					<Alert variant="info" isInline isPlain className="pf-v5-u-mt-md"
						title={`Showing the first ${tokens.length} tokens.${admin ? ' Narrow the filters, or show more.' : ''}`}
						actionLinks={<Button variant="link" isInline onClick={() => setLimit(l => l * 2)}>Show more</Button>} />
				)}
			</PageSection>
			{admin && policy.policy && (
				<PageSection>
					<PolicyView policy={policy.policy} />
				</PageSection>
			)}
			{dialog && dialog.type === 'create' && (
				<CreateDialog client={client} policy={policy} onError={onError}
					onCreated={onCreated} onCancel={() => setDialog(null)} />
			)}
			{dialog && dialog.type === 'revoke' && (
				<RevokeDialog client={client} token={dialog.token} onError={onError}
					onRevoked={onRevoked} onCancel={() => setDialog(null)} />
			)}
			{dialog && dialog.type === 'rotate' && (
				<RotateDialog client={client} token={dialog.token} onError={onError}
					onRotated={onRotated} onCancel={() => setDialog(null)} />
			)}
			{secret && <SecretDialog secret={secret} onClose={closeSecret} />}
		</>
	);
}
