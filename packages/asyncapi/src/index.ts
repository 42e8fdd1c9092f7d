export {
  type AsyncApiBridge,
  type AsyncApiDocument,
  type AsyncApiOptions,
  generateAsyncApi,
} from './generateAsyncApi.js'
