// Moving cards on the board: dragging with any pointer (mouse and pen at once, touch after a
// long press so a swipe still scrolls the columns), with an indicator where the card will
// land, and the keyboard (Space or Enter picks the focused card up, the arrows move it within
// and between columns, Space or Enter drops it, Escape puts it back). Screen readers hear
// every step through the polite live region.
//
// Pointer events rather than HTML drag and drop: the latter never fires for touch in most
// mobile browsers. Both ways end in the same call, onMove(dealId, stageId, index), where
// index counts the cards of the target column without the moved one.

import { h } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';

const DRAG_THRESHOLD_PX = 5;
const TOUCH_HOLD_MS = 350;
const TOUCH_SLOP_PX = 8;
const EDGE_PX = 48;

/** Say something to screen readers without showing a toast. */
export function announce(message) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: 'visually-hidden' }, message);
  region.append(item);
  setTimeout(() => item.remove(), 4_000);
}

/**
 * @param {{board: HTMLElement, canWrite: () => boolean, stageName: (stageId: number) => string,
 *          onMove: (dealId: number, stageId: number, index: number) => void,
 *          onCancel: () => void, onBusy: (busy: boolean) => void}} options
 *   board: the element holding the `.crm-column`s (it scrolls horizontally)
 *   onCancel: draw the board again as the store has it
 *   onBusy: a move is being chosen (the screen holds redraws until it ends)
 * @returns {() => void} stop
 */
export function enableMoves({ board, canWrite, stageName, onMove, onCancel, onBusy }) {
  const listOf = (stageId) => board.querySelector(`.crm-column[data-stage-id="${stageId}"] .crm-card-list`);
  const cardsIn = (list, except) => [...list.querySelectorAll(':scope > .crm-card')].filter((card) => card !== except);
  const titleOf = (card) => card.querySelector('.crm-card-title')?.textContent || '';

  // --- pointer --------------------------------------------------------------------------------

  let pending = null; // pointer down on a card, drag not started yet
  let drag = null; // a drag under way
  let suppressClick = false;

  function onPointerDown(event) {
    if (!canWrite() || drag || keyboard) return;
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    const card = event.target.closest('.crm-card');
    if (!card || !board.contains(card) || event.target.closest('button, input, select, textarea, label')) return;
    pending = { card, pointerId: event.pointerId, x: event.clientX, y: event.clientY, touch: event.pointerType === 'touch', timer: null };
    if (pending.touch) {
      pending.timer = setTimeout(() => {
        if (pending) startDrag(pending.x, pending.y);
      }, TOUCH_HOLD_MS);
    }
    window.addEventListener('pointermove', onPointerMove);
    window.addEventListener('pointerup', onPointerUp);
    window.addEventListener('pointercancel', onPointerCancel);
  }

  function onPointerMove(event) {
    if (pending && event.pointerId === pending.pointerId && !drag) {
      const distance = Math.hypot(event.clientX - pending.x, event.clientY - pending.y);
      if (pending.touch) {
        // Moving before the hold ends is a scroll, not a drag.
        if (distance > TOUCH_SLOP_PX) finishPointer();
        return;
      }
      if (distance < DRAG_THRESHOLD_PX) return;
      startDrag(event.clientX, event.clientY);
    }
    if (drag && event.pointerId === drag.pointerId) {
      event.preventDefault();
      follow(event.clientX, event.clientY);
    }
  }

  function onPointerUp(event) {
    if (drag && event.pointerId === drag.pointerId) {
      const { card, target } = drag;
      const dealId = Number(card.dataset.dealId);
      endDrag();
      if (target) onMove(dealId, target.stageId, target.index);
      else onCancel();
      return;
    }
    finishPointer();
  }

  function onPointerCancel() {
    if (drag) {
      endDrag();
      onCancel();
    }
    finishPointer();
  }

  function finishPointer() {
    if (pending && pending.timer) clearTimeout(pending.timer);
    pending = null;
    window.removeEventListener('pointermove', onPointerMove);
    window.removeEventListener('pointerup', onPointerUp);
    window.removeEventListener('pointercancel', onPointerCancel);
  }

  function startDrag(x, y) {
    const { card, pointerId } = pending;
    if (pending.timer) clearTimeout(pending.timer);
    pending = null;
    const rect = card.getBoundingClientRect();
    const ghost = card.cloneNode(true);
    ghost.removeAttribute('data-testid');
    ghost.removeAttribute('id');
    ghost.querySelectorAll('[id]').forEach((element) => element.removeAttribute('id'));
    ghost.setAttribute('aria-hidden', 'true');
    ghost.classList.add('crm-card-ghost');
    ghost.style.width = `${rect.width}px`;
    document.body.append(ghost);
    drag = {
      card,
      pointerId,
      ghost,
      offsetX: x - rect.left,
      offsetY: y - rect.top,
      indicator: h('li', { class: 'crm-drop-indicator', 'aria-hidden': 'true', 'data-testid': 'crm-drop-indicator' }),
      target: null,
    };
    card.classList.add('dragging');
    document.body.classList.add('crm-dragging');
    suppressClick = true;
    onBusy(true);
    announce(interpolate(gettext('Dragging %(title)s.'), { title: titleOf(card) }));
    follow(x, y);
  }

  function follow(x, y) {
    const { ghost, card, indicator } = drag;
    ghost.style.transform = `translate(${x - drag.offsetX}px, ${y - drag.offsetY}px)`;
    autoScroll(x, y);
    const under = document.elementFromPoint(x, y);
    const column = under && under.closest('.crm-column');
    if (!column || !board.contains(column)) {
      indicator.remove();
      drag.target = null;
      return;
    }
    const list = column.querySelector('.crm-card-list');
    const cards = cardsIn(list, card);
    let index = cards.findIndex((item) => {
      const box = item.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
    if (index < 0) index = cards.length;
    if (index < cards.length) list.insertBefore(indicator, cards[index]);
    else list.append(indicator);
    drag.target = { stageId: Number(column.dataset.stageId), index };
  }

  function autoScroll(x, y) {
    const box = board.getBoundingClientRect();
    if (x < box.left + EDGE_PX) board.scrollLeft -= 16;
    else if (x > box.right - EDGE_PX) board.scrollLeft += 16;
    const list = document.elementFromPoint(x, y)?.closest('.crm-card-list');
    if (list) {
      const listBox = list.getBoundingClientRect();
      if (y < listBox.top + EDGE_PX / 2) list.scrollTop -= 12;
      else if (y > listBox.bottom - EDGE_PX / 2) list.scrollTop += 12;
    }
  }

  function endDrag() {
    drag.ghost.remove();
    drag.indicator.remove();
    drag.card.classList.remove('dragging');
    document.body.classList.remove('crm-dragging');
    drag = null;
    finishPointer();
    onBusy(false);
    // The click that ends a drag on the title link must not open the deal.
    setTimeout(() => (suppressClick = false), 0);
  }

  function onClickCapture(event) {
    if (suppressClick) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  // A long press on touch: once the drag started, the finger's moves must not scroll.
  function onTouchMove(event) {
    if (drag) event.preventDefault();
  }

  // --- keyboard -------------------------------------------------------------------------------

  let placing = false;
  let keyboard = null; // {card, dealId, stageId, index, originStageId, originIndex}

  function stageIds() {
    return [...board.querySelectorAll('.crm-column')].map((column) => Number(column.dataset.stageId));
  }

  function place() {
    const { card, stageId, index } = keyboard;
    const list = listOf(stageId);
    const cards = cardsIn(list, card);
    // Moving the focused card in the DOM blurs it for a moment: not a reason to cancel.
    placing = true;
    if (index < cards.length) list.insertBefore(card, cards[index]);
    else list.append(card);
    card.focus();
    placing = false;
    card.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    return cards.length + 1;
  }

  function describe(total) {
    return interpolate(gettext('%(title)s: %(stage)s, position %(position)s of %(total)s.'), {
      title: titleOf(keyboard.card),
      stage: stageName(keyboard.stageId),
      position: keyboard.index + 1,
      total,
    });
  }

  function onKeyDown(event) {
    const card = event.target;
    if (!(card instanceof HTMLElement) || !card.classList.contains('crm-card') || !board.contains(card)) return;
    const key = event.key;
    if (!keyboard) {
      if ((key === ' ' || key === 'Enter') && canWrite() && !drag) {
        event.preventDefault();
        const index = cardsIn(card.parentElement, null).indexOf(card);
        const stageId = Number(card.closest('.crm-column').dataset.stageId);
        keyboard = { card, dealId: Number(card.dataset.dealId), stageId, index, originStageId: stageId, originIndex: index };
        card.classList.add('lifted');
        card.setAttribute('aria-pressed', 'true');
        onBusy(true);
        announce(
          interpolate(
            gettext('Picked up %(title)s. Use the arrow keys to move it, Space or Enter to drop it, Escape to cancel.'),
            { title: titleOf(card) },
          ),
        );
      }
      return;
    }
    if (card !== keyboard.card) return;
    const ids = stageIds();
    const column = ids.indexOf(keyboard.stageId);
    const countIn = (stageId) => cardsIn(listOf(stageId), keyboard.card).length;
    if (key === 'ArrowUp' || key === 'ArrowDown') {
      event.preventDefault();
      const next = keyboard.index + (key === 'ArrowUp' ? -1 : 1);
      keyboard.index = Math.max(0, Math.min(next, countIn(keyboard.stageId)));
      announce(describe(place()));
    } else if (key === 'ArrowLeft' || key === 'ArrowRight') {
      event.preventDefault();
      const nextColumn = column + (key === 'ArrowLeft' ? -1 : 1);
      if (nextColumn < 0 || nextColumn >= ids.length) return;
      keyboard.stageId = ids[nextColumn];
      keyboard.index = Math.min(keyboard.index, countIn(keyboard.stageId));
      announce(describe(place()));
    } else if (key === ' ' || key === 'Enter') {
      event.preventDefault();
      const { dealId, stageId, index, originStageId, originIndex } = keyboard;
      stopKeyboard();
      if (stageId === originStageId && index === originIndex) {
        announce(gettext('The card was dropped where it was.'));
        onCancel();
      } else {
        announce(interpolate(gettext('Dropped in %(stage)s.'), { stage: stageName(stageId) }));
        onMove(dealId, stageId, index);
      }
    } else if (key === 'Escape') {
      event.preventDefault();
      cancelKeyboard();
    } else if (key === 'Tab') {
      cancelKeyboard();
    }
  }

  function stopKeyboard() {
    keyboard.card.classList.remove('lifted');
    keyboard.card.removeAttribute('aria-pressed');
    keyboard = null;
    onBusy(false);
  }

  function cancelKeyboard() {
    if (!keyboard) return;
    stopKeyboard();
    announce(gettext('Move cancelled.'));
    onCancel();
  }

  function onFocusOut(event) {
    // Focus went elsewhere (a click away): put the lifted card back.
    if (placing || !keyboard || event.target !== keyboard.card) return;
    if (!board.contains(event.relatedTarget)) cancelKeyboard();
  }

  board.addEventListener('pointerdown', onPointerDown);
  board.addEventListener('click', onClickCapture, true);
  board.addEventListener('touchmove', onTouchMove, { passive: false });
  board.addEventListener('keydown', onKeyDown);
  board.addEventListener('focusout', onFocusOut);
  return () => {
    if (drag) endDrag();
    finishPointer();
    board.removeEventListener('pointerdown', onPointerDown);
    board.removeEventListener('click', onClickCapture, true);
    board.removeEventListener('touchmove', onTouchMove);
    board.removeEventListener('keydown', onKeyDown);
    board.removeEventListener('focusout', onFocusOut);
  };
}
