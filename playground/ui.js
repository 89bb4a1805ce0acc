// What both tabs of the page share: the error box at the top, and the tabs themselves.

export const $ = (id) => document.getElementById(id);

/** Shows `text` in the page's error box, with a button that dismisses it. */
export function showError(text) {
  const box = $('error');
  box.hidden = false;
  box.innerHTML = '';
  const close = Object.assign(document.createElement('button'), { type: 'button', textContent: '×', title: 'dismiss' });
  close.onclick = () => (box.hidden = true);
  box.append(Object.assign(document.createElement('span'), { textContent: text }), close);
}

/**
 * The tab buttons ([role=tab], aria-controls naming their panel) show one panel at a time; the address's #hash
 * (#text) opens that tab, so a link can point at it. `onShow(panelId)` is called when a panel is shown.
 */
export function tabs(onShow = () => {}) {
  const buttons = [...document.querySelectorAll('[role="tab"]')];
  const show = (button, { focus = false } = {}) => {
    for (const b of buttons) {
      const on = b === button;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      $(b.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) button.focus();
    onShow(button.getAttribute('aria-controls'));
  };
  for (const b of buttons) {
    b.onclick = () => {
      show(b);
      history.replaceState(null, '', b === buttons[0] ? location.pathname : `#${b.getAttribute('aria-controls')}`);
    };
    b.onkeydown = (e) => { // arrow keys move between tabs, as in a tab list
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (step) show(buttons[(buttons.indexOf(b) + step + buttons.length) % buttons.length], { focus: true });
    };
  }
  show(buttons.find((b) => `#${b.getAttribute('aria-controls')}` === location.hash) ?? buttons[0]);
}
