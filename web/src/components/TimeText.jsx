// A time from tokenadm (RFC 3339 UTC), shown in the reader's local time with
// how long ago / how soon.
import React from 'react';
import { formatTime, relativeTime } from '../format.js';

export function TimeText({ iso, empty }) {
	const shown = formatTime(iso);
	if (!shown)
		return <span className="apitoken-muted">{empty}</span>;
	return (
		<time dateTime={iso} title={iso}>
			{shown}
			<div className="apitoken-muted">{relativeTime(iso)}</div>
		</time>
	);
}
