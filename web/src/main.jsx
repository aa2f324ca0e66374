// Entry point: PatternFly's base styles, one API client for the tab, the app.
import '@patternfly/patternfly/patternfly-base.css';
import './app.css';
import React from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './api.js';
import { App } from './components/App.jsx';

const client = createClient();
createRoot(document.getElementById('app')).render(<App client={client} />);
