/**
 * The HTTP gateway cell. Its code lives in packages/http/bench/ because bench/ is not a
 * workspace package: hono, autocannon and @conduit/http resolve from there.
 */
export { default } from '../../packages/http/bench/httpSuite.js'
