import { nextTick, watch } from 'vue';
import type { Ref } from 'vue';

/**
 * A native modal `<dialog>` driven by an `open` flag: shown with `showModal()` when the flag turns on (after
 * `beforeShow`), focus then moved to what `focusTarget` names, closed when the flag turns off. `returnFocus()` (call it
 * from the dialog's `close` event) puts the focus back on the element that had it before the dialog opened.
 */
export const useModalDialog = (
  open: () => boolean,
  dialog: Ref<HTMLDialogElement | null>,
  focusTarget: (dialog: HTMLDialogElement) => HTMLElement | null | undefined,
  beforeShow: () => void = () => {},
): { readonly returnFocus: () => void } => {
  let opener: HTMLElement | null = null;
  watch(open, async (isOpen) => {
    const d = dialog.value;
    if (d === null) return;
    if (isOpen && !d.open) {
      opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      beforeShow();
      d.showModal();
      await nextTick();
      focusTarget(d)?.focus();
    } else if (!isOpen && d.open) {
      d.close();
    }
  });
  return { returnFocus: () => opener?.focus() };
};
