// A time from tokenadm (RFC 3339 UTC), shown in the reader's local time with
// how long ago / how soon; the full time on hover.
import React from 'react';
import { formatDate, formatTime, relativeTime } from '../format.js';

export function TimeText({ iso, empty }) {
	const shown = formatDate(iso);
	if (!shown)
		return <span className="apitoken-muted">{empty}</span>;
	return (
		<time dateTime={iso} title={formatTime(iso)}>
			{shown}
			<div className="apitoken-muted">{relativeTime(iso)}</div>
		</time>
	);
}
