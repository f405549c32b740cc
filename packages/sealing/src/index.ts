export { KEK_FILE_VARIABLE, KeyFileError, keyFileSource, keyIdOf, parseKeyFile } from './key-file.js';
export type { DataKey, KeySource } from './key-file.js';
export { createKeyring, isSealed, packSealed, TamperedRecordError, UnknownKeyError, unpackSealed } from './keyring.js';
export type { Keyring } from './keyring.js';
