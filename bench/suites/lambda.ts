/**
 * The AWS Lambda cells. Their code lives in packages/aws-lambda/bench/ because bench/ is not a
 * workspace package: @conduit/aws-lambda, hono and esbuild resolve from there.
 */
export { default } from '../../packages/aws-lambda/bench/lambdaSuite.js'
