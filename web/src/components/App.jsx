// Top of the page: signed out → SignIn; signed in → the tokens page. Holds
// the person's policy (never their password: that is in the API client).
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Page } from '@patternfly/react-core';
import { SignIn } from './SignIn.jsx';
import { TopBar } from './TopBar.jsx';
import { TokensPage } from './TokensPage.jsx';

// Like a bank's page, a page that holds an account password signs out by
// itself when left alone.
const IDLE_MS = 15 * 60 * 1000;

export function App({ client }) {
	const [policy, setPolicy] = useState(null);
	const [signInMessage, setSignInMessage] = useState(null);
	const lastActive = useRef(Date.now());

	const signOut = useCallback(message => {
		client.signOut();
		setPolicy(null);
		setSignInMessage(message || null);
	}, [client]);

	// Every component hands its errors here first: a 401 (or an answer
	// after sign-out) is handled once, for the whole page. Returns the error
	// for the caller to show, or null when there is nothing to show.
	const onError = useCallback(err => {
		if (err && err.kind === 'signed-out')
			return null;
		if (err && err.kind === 'auth') {
			signOut(err.message);
			return null;
		}
		return err;
	}, [signOut]);

	useEffect(() => {
		if (!policy)
			return undefined;
		const touch = () => { lastActive.current = Date.now(); };
		touch();
		const events = ['keydown', 'pointerdown', 'wheel'];
		events.forEach(e => window.addEventListener(e, touch, { passive: true }));
		const timer = window.setInterval(() => {
			if (Date.now() - lastActive.current > IDLE_MS)
				signOut('You were signed out after 15 minutes without activity.');
		}, 30 * 1000);
		return () => {
			events.forEach(e => window.removeEventListener(e, touch));
			window.clearInterval(timer);
		};
	}, [policy, signOut]);

	const signIn = useCallback(async (user, password) => {
		const p = await client.signIn(user, password);
		setSignInMessage(null);
		setPolicy(p);
	}, [client]);

	const refreshPolicy = useCallback(() => {
		client.policy().then(setPolicy, onError);
	}, [client, onError]);

	if (!policy) {
		return (
			<Page header={<TopBar />}>
				<SignIn onSignIn={signIn} message={signInMessage} />
			</Page>
		);
	}
	return (
		<Page header={<TopBar user={policy.user} admin={policy.admin} onSignOut={() => signOut(null)} />}>
			<TokensPage client={client} policy={policy} onError={onError} onPolicyChanged={refreshPolicy} />
		</Page>
	);
}
