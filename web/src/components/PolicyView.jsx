// An administrator's read-only view of the effective policy (tokenadm's).
import React from 'react';
import {
	DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm,
	ExpandableSection,
} from '@patternfly/react-core';
import { policyValue } from '../format.js';

export function PolicyView({ policy }) {
	const entries = policy && typeof policy === 'object' ? Object.entries(policy) : [];
	return (
		<ExpandableSection toggleText="Effective policy (read-only)" data-testid="policy-view">
			<DescriptionList isHorizontal isCompact aria-label="Effective policy">
				{entries.map(([k, v]) => (
					<DescriptionListGroup key={k}>
						<DescriptionListTerm><span className="apitoken-mono">{k}</span></DescriptionListTerm>
						<DescriptionListDescription>{policyValue(v)}</DescriptionListDescription>
					</DescriptionListGroup>
				))}
			</DescriptionList>
		</ExpandableSection>
	);
}
