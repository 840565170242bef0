// SQS workload from the AWS SDK for JavaScript v3 over HTTP/1.1 or HTTP/2 (h2c prior
// knowledge), for benchmarks/wire_sqs.py: CONCURRENCY loops send 10-message batches until
// MESSAGES are sent, then receive + delete until drained. Prints one JSON line.
const { SQSClient, CreateQueueCommand, SendMessageBatchCommand, ReceiveMessageCommand,
  DeleteMessageBatchCommand } = require("@aws-sdk/client-sqs");
const { NodeHttpHandler, NodeHttp2Handler } = require("@smithy/node-http-handler");
const http = require("http");

const [endpoint, protocol, total] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const CONCURRENCY = 4;
const handler = protocol === "h2"
  ? new NodeHttp2Handler({ disableConcurrentStreams: false })
  : new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) });
const client = new SQSClient({ endpoint, region: "us-east-1", maxAttempts: 1, requestHandler: handler,
  credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "secret" } });
const body = "x".repeat(200);

(async () => {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `js-${protocol}`,
    Attributes: { VisibilityTimeout: "600" } }));
  let toSend = total, sendRequests = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (toSend > 0) {
      const count = Math.min(10, toSend); toSend -= count;
      const Entries = Array.from({ length: count }, (_, i) => ({ Id: String(i), MessageBody: body }));
      await client.send(new SendMessageBatchCommand({ QueueUrl, Entries })); sendRequests++;
    }
  }));
  const t1 = process.hrtime.bigint();
  let received = 0, receiveRequests = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (received < total) {
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl,
        MaxNumberOfMessages: 10, WaitTimeSeconds: 0 })); receiveRequests++;
      if (!Messages.length) { if (received >= total) break; continue; }
      received += Messages.length;
      await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) =>
        ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) })); receiveRequests++;
    }
  }));
  const t2 = process.hrtime.bigint();
  client.destroy();
  console.log(JSON.stringify({ send_seconds: Number(t1 - t0) / 1e9, send_requests: sendRequests,
    receive_seconds: Number(t2 - t1) / 1e9, receive_requests: receiveRequests, messages: total }));
})().catch((error) => { console.error(error); process.exit(1); });
