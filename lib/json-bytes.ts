// The characters that structure JSON text, as bytes and as UTF-16 code units alike (all ASCII), for
// the scanners that walk JSON without parsing it: the ingress's depth check and the list splitter.
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
