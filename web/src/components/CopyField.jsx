// A read-only field with a copy button, for a token value. It keeps no copy
// of the value: the value lives in the parent's state, and nothing here
// logs it.
import React, { useRef, useState } from 'react';
import { Button, InputGroup, InputGroupItem, TextInput } from '@patternfly/react-core';
import CopyIcon from '@patternfly/react-icons/dist/esm/icons/copy-icon';

export function CopyField({ value, label, id }) {
	const input = useRef(null);
	const [copied, setCopied] = useState(null);

	const copy = async () => {
		try {
			await navigator.clipboard.writeText(value);
			setCopied(true);
		} catch {
			// Outside a secure context there is no clipboard API: select the
			// text so the person can press Ctrl+C.
			if (input.current) {
				input.current.focus();
				input.current.select();
			}
			setCopied(false);
		}
	};

	return (
		<>
			<InputGroup className="apitoken-secret">
				<InputGroupItem isFill>
					<TextInput id={id} ref={input} readOnlyVariant="default" value={value} aria-label={label}
						onFocus={e => e.target.select()} />
				</InputGroupItem>
				<InputGroupItem>
					<Button variant="control" icon={<CopyIcon />} onClick={copy}
						aria-label="Copy the token to the clipboard">Copy</Button>
				</InputGroupItem>
			</InputGroup>
			<div aria-live="polite" className="pf-v5-u-mt-xs apitoken-muted">
				{copied === true && 'Copied to the clipboard.'}
				{copied === false && 'Could not copy: the text is selected, press Ctrl+C.'}
			</div>
		</>
	);
}
