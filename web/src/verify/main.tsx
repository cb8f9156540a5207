/** @jsxImportSource preact */
// The public verification page (/verify): an entry of its own that loads none of the signed-in
// console's code. Preact instead of React: the same components and hooks for a phone's first
// visit at a tenth of the script (see docs/ARCHITECTURE.md, `web/`).
import { render } from 'preact';
import { VerifyApp } from './VerifyApp';
import './verify.css';

const root = document.getElementById('root');
if (!root) throw new Error('verify.html has no #root element');

render(<VerifyApp />, root);
