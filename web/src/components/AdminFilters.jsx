// An administrator's filters. They are sent to the server (tokenadm does
// the filtering), applied with the button or Enter.
import React, { useState } from 'react';
import {
	Button, FormSelect, FormSelectOption, TextInput, Toolbar, ToolbarContent, ToolbarItem,
} from '@patternfly/react-core';

export const EMPTY_FILTERS = { user: '', state: '', expiringWithin: '', unusedFor: '' };

const STATES = [
	['', 'Any state'], ['active', 'Active'], ['inactive', 'Deactivated'], ['disabled', 'Disabled'],
	['expired', 'Expired'], ['revoked', 'Revoked'],
];
const EXPIRING = [['', 'Any expiry'], ['1d', 'Expiring within 1 day'], ['7d', 'Expiring within 7 days'],
	['30d', 'Expiring within 30 days'], ['90d', 'Expiring within 90 days']];
const UNUSED = [['', 'Any last use'], ['7d', 'Unused for 7 days'], ['30d', 'Unused for 30 days'],
	['90d', 'Unused for 90 days'], ['365d', 'Unused for a year']];

function Select({ label, value, options, onChange, id }) {
	return (
		<FormSelect id={id} aria-label={label} value={value} onChange={(_e, v) => onChange(v)}>
			{options.map(([v, l]) => <FormSelectOption key={v} value={v} label={l} />)}
		</FormSelect>
	);
}

export function AdminFilters({ value, onApply }) {
	const [f, setF] = useState(value);
	const set = key => v => setF(old => ({ ...old, [key]: v }));
	const submit = event => {
		event.preventDefault();
		onApply({ ...f, user: f.user.trim() });
	};
	return (
		<form onSubmit={submit} aria-label="Filter tokens" data-testid="admin-filters">
			<Toolbar>
				<ToolbarContent>
					<ToolbarItem>
						<TextInput id="filter-user" aria-label="Filter by user" placeholder="User"
							value={f.user} onChange={(_e, v) => set('user')(v)} />
					</ToolbarItem>
					<ToolbarItem>
						<Select id="filter-state" label="Filter by state" value={f.state} options={STATES} onChange={set('state')} />
					</ToolbarItem>
					<ToolbarItem>
						<Select id="filter-expiring" label="Expiring within" value={f.expiringWithin} options={EXPIRING}
							onChange={set('expiringWithin')} />
					</ToolbarItem>
					<ToolbarItem>
						<Select id="filter-unused" label="Unused for" value={f.unusedFor} options={UNUSED}
							onChange={set('unusedFor')} />
					</ToolbarItem>
					<ToolbarItem>
						<Button type="submit" variant="secondary">Apply filters</Button>
					</ToolbarItem>
					<ToolbarItem>
						<Button variant="link" onClick={() => { setF(EMPTY_FILTERS); onApply(EMPTY_FILTERS); }}>
							Clear filters
						</Button>
					</ToolbarItem>
				</ToolbarContent>
			</Toolbar>
		</form>
	);
}
