// The masthead: the page's name, who is signed in, and sign-out.
import React from 'react';
import {
	Button, Masthead, MastheadContent, MastheadMain, Title, Toolbar, ToolbarContent, ToolbarItem,
} from '@patternfly/react-core';

export function TopBar({ user, admin, onSignOut }) {
	return (
		<Masthead>
			<MastheadMain>
				<Title headingLevel="h1" size="xl" className="pf-v5-u-color-light-100">API tokens</Title>
			</MastheadMain>
			{user && (
				<MastheadContent>
					<Toolbar isFullHeight isStatic>
						<ToolbarContent>
							<ToolbarItem align={{ default: 'alignRight' }}>
								<span className="pf-v5-u-color-light-100" data-testid="signed-in-user">
									{user}{admin ? ' (administrator)' : ''}
								</span>
							</ToolbarItem>
							<ToolbarItem>
								<Button variant="secondary" isInline={false} onClick={onSignOut}
									className="pf-m-light">Sign out</Button>
							</ToolbarItem>
						</ToolbarContent>
					</Toolbar>
				</MastheadContent>
			)}
		</Masthead>
	);
}
