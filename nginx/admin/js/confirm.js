// confirm.js — asks the operator before an irreversible action, with the
// page's <dialog id="confirm"> (modal, keyboard-usable, Escape cancels).

import { replace } from './dom.js';

// ask(title, text, action): resolves true when the operator chose `action`.
export function ask(title, text, action) {
	const dialog = document.getElementById('confirm');
	replace(dialog.querySelector('h2'), title);
	replace(dialog.querySelector('p'), text);
	replace(dialog.querySelector('[value="yes"]'), action);
	dialog.returnValue = '';
	dialog.showModal();
	dialog.querySelector('[value="no"]').focus();
	return new Promise(resolve => {
		dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
	});
}
