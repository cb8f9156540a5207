/** @jsxImportSource preact */
// The outside signer's page (/sign/<token>): an entry of its own that loads none of the signed-in
// console's code (see docs/ARCHITECTURE.md, `web/`). Preact, like the verification page: a signer
// opens it once, on a phone, from a text message. pdf.js comes later, by a dynamic import.
import { render } from 'preact';
import { SignApp } from './SignApp';
import './sign.css';

const root = document.getElementById('root');
if (!root) throw new Error('sign.html has no #root element');

render(<SignApp />, root);
