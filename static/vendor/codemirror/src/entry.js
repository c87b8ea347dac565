export { EditorView, basicSetup } from "codemirror";
export { keymap } from "@codemirror/view";
export { indentWithTab } from "@codemirror/commands";
export { python } from "@codemirror/lang-python";
