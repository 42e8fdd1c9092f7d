export { type VaultSecretStoreOptions, vaultSecretStore } from './vaultSecretStore.js'
