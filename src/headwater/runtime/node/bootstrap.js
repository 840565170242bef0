// headwater's Node.js runtime interface client: a plain-JavaScript stand-in for AWS's
// aws-lambda-ric (npm) that behaves the same way towards handlers and the Runtime API, so
// nodejs functions run without a native build. What it reproduces, from aws-lambda-ric:
// - handler loading: "dir/file.nested.fn"; file, .js (CommonJS, or ESM under a package.json
//   with "type": "module"), .mjs, .cjs, then Node's own resolution; Runtime.ImportModuleError,
//   Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound, Runtime.MalformedHandlerName;
// - async handlers (the promise's value), callback handlers (callback(err, result), with
//   context.callbackWaitsForEmptyEventLoop), context.succeed/fail/done, a handler that never
//   answers (null once the event loop is empty), context.getRemainingTimeInMillis();
// - error payloads {errorType, errorMessage, trace}, console lines
//   "<ISO time>\t<request id>\t<LEVEL>\t<message>" (newlines as \r), "Invoke Error" and
//   "Uncaught Exception" log lines, exit codes 129/128 after an uncaught error/rejection.
'use strict';

const net = require('net');
const fs = require('fs');
const path = require('path');
const util = require('util');

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const PREFIX = '/2018-06-01/runtime';
let currentRequestId;

// A minimal HTTP/1.1 keep-alive client for the Runtime API (bodies with Content-Length):
// Node's http module costs more per call than the whole exchange. Requests may be
// pipelined (a response's POST and the next GET /next go out together, saving a round
// trip per invocation); responses come back in order. The socket is unref'd while nothing
// is pending so that an idle connection never keeps the event loop alive
// (callbackWaitsForEmptyEventLoop relies on the loop emptying).
class RuntimeApiClient {
  constructor(host, port) {
    this.host = host;
    this.port = Number(port);
    this.socket = null;
    this.pending = [];
    this.buffer = Buffer.alloc(0);
  }

  connect() {
    const socket = net.createConnection({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.received(chunk));
    const fail = (error) => {
      if (this.socket === socket) this.socket = null;
      const pending = this.pending;
      this.pending = [];
      for (const waiter of pending) waiter.reject(error || new Error('Runtime API connection closed'));
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
  }

  request(method, urlPath, body, headers) {
    if (this.socket === null) this.connect();
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Length: ${payload.length}\r\n`;
    for (const name in headers || {}) head += `${name}: ${headers[name]}\r\n`;
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.ref();
      this.socket.write(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), payload]));
    });
  }

  // Requests written until uncork() leave in one segment.
  cork() {
    if (this.socket === null) this.connect();
    this.socket.cork();
  }

  uncork() {
    if (this.socket !== null) this.socket.uncork();
  }

  received(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.pending.length) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buffer.toString('latin1', 0, end).split('\r\n');
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(':');
        headers[lines[i].slice(0, colon).toLowerCase()] = lines[i].slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] || 0);
      if (this.buffer.length < end + 4 + length) return;
      const body = this.buffer.subarray(end + 4, end + 4 + length);
      this.buffer = this.buffer.subarray(end + 4 + length);
      const waiter = this.pending.shift();
      if (this.pending.length === 0) this.socket.unref();
      if (headers['connection'] === 'close') {
        this.socket.destroy();
        this.socket = null;
      }
      waiter.resolve({ status: Number(lines[0].split(' ')[1]), headers, body });
      if (this.socket === null) return;
    }
  }
}

const CLIENT = new RuntimeApiClient(HOST, PORT);

function call(method, urlPath, body, headers) {
  return CLIENT.request(method, PREFIX + urlPath, body, headers);
}

// -- errors and logs ---------------------------------------------------------------------

// Named on the prototype, as aws-lambda-ric's classes are (so not copied into log JSON).
const ERROR_CLASSES = {};
for (const name of ['ImportModuleError', 'HandlerNotFound', 'MalformedHandlerName', 'UserCodeSyntaxError', 'UnhandledPromiseRejection']) {
  ERROR_CLASSES[name] = class extends Error {};
  ERROR_CLASSES[name].prototype.name = `Runtime.${name}`;
}

function runtimeError(name, message) {
  return new ERROR_CLASSES[name](message);
}

function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || (error && typeof error.stack === 'string' && typeof error.name === 'string')) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function toFormatted(error) {
  const value = error instanceof Error ? error : new Error(error);
  const shown = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
    typeof value.stack === 'string' ? { stack: value.stack.split('\n') } : {}
  );
  return '\t' + JSON.stringify(shown);
}

function patchConsole() {
  const write = (level) => (message, ...params) => {
    const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(message, ...params)}`;
    process.stdout.write(line.replace(/\n/g, '\r') + '\n');
  };
  console.trace = write('TRACE');
  console.debug = write('DEBUG');
  console.info = write('INFO');
  console.log = console.info;
  console.warn = write('WARN');
  console.error = write('ERROR');
  console.fatal = write('FATAL');
}

function logError(what, error) {
  console.error(what, toFormatted(error));
}

// -- loading the handler -----------------------------------------------------------------

function hasTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      return JSON.parse(fs.readFileSync(manifest)).type === 'module';
    } catch (_) {
      return false;
    }
  }
  if (folder === '/') return false;
  return hasTypeModule(path.resolve(folder, '..'));
}

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(file) : undefined;
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequire(base);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(base + '.js') && hasTypeModule(path.dirname(base + '.js'));
  if (!esm) {
    const loaded = tryRequire(base + '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (esm && (await tryImport(base + '.js'))) || (await tryImport(base + '.mjs')) || tryRequire(base + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

// ES module imports of layer packages. NODE_PATH only serves require(); since nodejs18.x
// Lambda also resolves a bare `import 'pkg'` from the layers' directories (/opt/nodejs/
// node<major>/node_modules, /opt/nodejs/node_modules) when Node's own lookup fails. A
// resolve hook does the same: the first NODE_PATH directory holding the package, in
// NODE_PATH's order. Registered only when a layer directory exists (a hooks thread costs
// startup time), on Node versions that have module.register.
const LAYER_RESOLVE_HOOK = `
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
const dirs = (process.env.NODE_PATH || '').split(':').filter((d) => d.endsWith('/node_modules') && existsSync(d));
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const bare = !/^(\\.|\\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !bare) throw error;
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    const dir = dirs.find((d) => existsSync(join(d, name)));
    if (dir === undefined) throw error;
    const parentURL = pathToFileURL(join(dirname(dir), 'layer.mjs')).href;
    return nextResolve(specifier, { ...context, parentURL });
  }
}
`;

function registerLayerResolution() {
  const nodeModule = require('module');
  if (typeof nodeModule.register !== 'function') return;
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  const layerDirs = (process.env.NODE_PATH || '')
    .split(path.delimiter)
    .filter((d) => d.endsWith('/node_modules') && d !== path.join(taskRoot || '', 'node_modules'));
  if (!layerDirs.some((d) => fs.existsSync(d))) return;
  nodeModule.register('data:text/javascript,' + encodeURIComponent(LAYER_RESOLVE_HOOK));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw runtimeError(
      'MalformedHandlerName',
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`
    );
  }
  const moduleAndHandler = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(moduleAndHandler));
  const match = moduleAndHandler.match(/^([^.]*)\.(.*)$/);
  if (!match || match.length !== 3) throw runtimeError('MalformedHandlerName', 'Bad handler');
  let userModule;
  try {
    userModule = await loadModule(appRoot, moduleRoot, match[1]);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error));
    if (error && error.code === 'MODULE_NOT_FOUND') throw runtimeError('ImportModuleError', String(error));
    throw error;
  }
  const handler = match[2].split('.').reduce((nested, key) => nested && nested[key], userModule);
  if (!handler) throw runtimeError('HandlerNotFound', `${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw runtimeError('HandlerNotFound', `${fullHandler} is not a function`);
  return handler;
}

// -- the loop ----------------------------------------------------------------------------

let beforeExit = () => {};
process.on('beforeExit', () => beforeExit());

function serialize(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch (_) {
    throw new Error('Unable to stringify response body');
  }
}

function postError(id, error) {
  logError('Invoke Error', error);
  const body = toRapidResponse(error);
  return call('POST', `/invocation/${encodeURIComponent(id)}/error`, JSON.stringify(body), {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Function-Error-Type': body.errorType,
  });
}

async function postResponse(id, result) {
  let body;
  try {
    body = serialize(result);
  } catch (error) {
    return postError(id, error);
  }
  return call('POST', `/invocation/${encodeURIComponent(id)}/response`, body, {
    'Content-Type': 'application/json',
  });
}

function contextFor(headers, callbacks) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  const parse = (name, label) => {
    const value = headers[name];
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch (error) {
      throw new Error(`Cannot parse ${label} as json: ${error.toString()}`);
    }
  };
  return Object.assign(callbacks, {
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parse('lambda-runtime-client-context', 'ClientContext'),
    identity: parse('lambda-runtime-cognito-identity', 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  });
}

async function invokeOnce(handler) {
  const { headers, body } = await call('GET', '/invocation/next');
  const id = headers['lambda-runtime-aws-request-id'];
  currentRequestId = id;
  invoking = id;
  if (headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;

  let finished = false;
  const finish = (error, result) => {
    if (finished) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    finished = true;
    invoking = undefined;
    beforeExit = () => {};
    // The result and the next GET /next leave together (pipelined; the API answers in
    // order): the runtime is waiting for work as soon as it has answered.
    CLIENT.cork();
    const posted = error !== undefined && error !== null ? postError(id, error) : postResponse(id, result);
    posted.catch(fatal);
    invokeOnce(handler).catch(fatal);
    CLIENT.uncork();
  };
  let waitForEmptyEventLoop = true;
  const callback = (error, result) => {
    if ((error !== undefined && error !== null) || !waitForEmptyEventLoop) {
      finish(error, result);
    } else {
      beforeExit = () => setImmediate(() => finish(null, result));
    }
  };
  const callbacks = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: (result) => finish(null, result),
    fail: (error) => finish(error === undefined || error === null ? 'handled' : error, null),
    done: (error, result) => finish(error, result),
  };
  // A handler that neither answers nor returns a promise: null once the loop is empty.
  beforeExit = () => finish(null, null);
  try {
    const context = contextFor(headers, callbacks);
    const event = JSON.parse(body.toString('utf8'));
    noteResponseUrl(event);
    const result = handler(event, context, callback);
    if (result && typeof result.then === 'function') {
      result.then(callbacks.succeed, callbacks.fail).catch(callbacks.fail);
    }
  } catch (error) {
    callback(error);
  }
}

// CloudFormation custom resource requests: AWS's ResponseURL is an https presigned S3 URL,
// and CDK's handlers (S3 auto-delete, AwsCustomResource, the provider framework) PUT to it
// with https.request({hostname, path}), dropping protocol and port. headwater's response
// URLs are http on its own port, so an https request to exactly such a URL (one this
// function was handed) goes to it over http. No other request is touched.
const RESPONSE_PREFIX = '/_headwater/cloudformation/responses/';
const responseUrls = new Map();
function noteResponseUrl(event) {
  const url = event !== null && typeof event === 'object' ? event.ResponseURL : undefined;
  if (typeof url !== 'string' || !url.startsWith('http://') || !url.includes(RESPONSE_PREFIX)) return;
  const parsed = new URL(url);
  if (responseUrls.size === 0) routeResponseUrls();
  responseUrls.set(parsed.pathname + parsed.search, parsed);
}
function routeResponseUrls() {
  const https = require('https');
  const http = require('http');
  const original = https.request;
  https.request = function request(options, ...rest) {
    const plain = options !== null && typeof options === 'object' && !(options instanceof URL);
    const target = plain && typeof options.path === 'string' ? responseUrls.get(options.path) : undefined;
    if (target !== undefined && (options.hostname || options.host) === target.hostname) {
      const { agent, host, ...kept } = options;
      return http.request({ ...kept, hostname: target.hostname, port: target.port, protocol: 'http:' }, ...rest);
    }
    return original.call(this, options, ...rest);
  };
}

function fatal(error) {
  process.stdout.write(`Unexpected Top Level Error: ${error}\n`);
  process.exit(1);
}

// An uncaught error or rejection ends the environment: reported as the init error during
// init, as the invocation's error during one, then exit (129 / 128), as aws-lambda-ric does.
let invoking;
async function reportFatal(error, code) {
  const body = toRapidResponse(error);
  const target = invoking === undefined ? '/init/error' : `/invocation/${encodeURIComponent(invoking)}/error`;
  try {
    // On a connection of its own: the main one may have a GET /next waiting, and the
    // API answers this report before it.
    await new RuntimeApiClient(HOST, PORT).request('POST', PREFIX + target, JSON.stringify(body), {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Function-Error-Type': body.errorType,
    });
  } finally {
    process.exit(code);
  }
}

async function main() {
  patchConsole();
  if (process.env._HEADWATER_WATCH_PARENT) {
    // No parent-death signal on this platform: exit when headwater is gone.
    const parent = Number(process.env._HEADWATER_WATCH_PARENT);
    delete process.env._HEADWATER_WATCH_PARENT;
    setInterval(() => process.ppid !== parent && process.exit(1), 1000).unref();
  }
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    reportFatal(error, 129);
  });
  process.on('unhandledRejection', (reason) => {
    const error = runtimeError('UnhandledPromiseRejection', String(reason && reason.message !== undefined ? reason.message : reason));
    logError('Unhandled Promise Rejection', error);
    reportFatal(error, 128);
  });
  globalThis.awslambda = globalThis.awslambda || {
    streamifyResponse: (handler) => handler,
  };
  registerLayerResolution();
  const handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER);
  await invokeOnce(handler);
}

main().catch((error) => {
  logError('Uncaught Exception', error);
  reportFatal(error, 129);
});
