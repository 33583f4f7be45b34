/**
 * The system's libcrypto.so.3, loaded once for the koffi bindings (node-evp.ts, node-native-kdf.ts).
 *
 * Loaded with RTLD_DEEPBIND: the node binary exports its own statically linked OpenSSL's symbols,
 * and without deep binding libcrypto.so.3's internal calls resolve to those first. Node 20 bundles
 * OpenSSL 3.0, like Debian 12, so the mix happened to work; Node 22 and 24 bundle 3.5, whose
 * structures differ, and the first HMAC_CTX_new() segfaulted. Deep binding keeps every call the
 * library makes inside the library.
 */
import koffi, { type LibraryHandle } from 'koffi';

let lib: LibraryHandle | undefined;

export function libcrypto(): LibraryHandle {
  lib ??= koffi.load('libcrypto.so.3', { deep: true });
  return lib;
}

/** A binding made on first use: `get()` returns it, or undefined with `error()` saying why it could not be made. */
export interface LazyBinding<T> {
  get(): T | undefined;
  error(): string | undefined;
}

/** Runs `make` once, at the first `get()`; a throw is remembered as the error and never retried. */
export function lazyBinding<T>(make: () => T): LazyBinding<T> {
  let value: T | null | undefined;
  let why: string | undefined;
  return {
    get(): T | undefined {
      if (value === undefined) {
        try {
          value = make();
        } catch (err) {
          value = null;
          why = (err as Error).message;
        }
      }
      return value ?? undefined;
    },
    error: () => why,
  };
}
