// The AWS SDK for JavaScript v3 clients against headwater, with only the endpoint changed.
// Kinesis speaks HTTP/2 with prior knowledge (its default NodeHttp2Handler); SQS and Lambda
// speak HTTP/1.1 by default, and SQS is also run over HTTP/2. Prints one JSON object.
const { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand,
  DeleteMessageCommand, GetQueueUrlCommand } = require("@aws-sdk/client-sqs");
const { KinesisClient, CreateStreamCommand, PutRecordCommand, PutRecordsCommand,
  GetShardIteratorCommand, GetRecordsCommand, DescribeStreamCommand } = require("@aws-sdk/client-kinesis");
const { LambdaClient, CreateFunctionCommand, InvokeCommand, GetFunctionCommand } =
  require("@aws-sdk/client-lambda");
const { NodeHttp2Handler } = require("@smithy/node-http-handler");
const fs = require("fs");

const endpoint = process.env.HEADWATER_ENDPOINT;
const common = {
  endpoint, region: "us-west-2", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDHEADWATERTEST", secretAccessKey: "secret" },
};

async function errorName(promise) {
  try { await promise; return null; } catch (error) { return error.name; }
}

async function sqs(client, name) {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
  await client.send(new SendMessageCommand({ QueueUrl, MessageBody: `hello ${name}` }));
  const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
  await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0].ReceiptHandle }));
  const missing = await errorName(client.send(new GetQueueUrlCommand({ QueueName: "missing" })));
  return { body: Messages[0].Body, missing };
}

async function kinesis() {
  const client = new KinesisClient(common);
  const handler = client.config.requestHandler.constructor.name;
  await client.send(new CreateStreamCommand({ StreamName: "js", ShardCount: 1 }));
  await client.send(new PutRecordCommand({ StreamName: "js", PartitionKey: "k", Data: Buffer.from("one") }));
  await client.send(new PutRecordsCommand({ StreamName: "js", Records: [
    { PartitionKey: "k", Data: Buffer.from("two") }, { PartitionKey: "k", Data: Buffer.from("three") }] }));
  const { ShardIterator } = await client.send(new GetShardIteratorCommand({
    StreamName: "js", ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }));
  const { Records } = await client.send(new GetRecordsCommand({ ShardIterator }));
  const missing = await errorName(client.send(new DescribeStreamCommand({ StreamName: "missing" })));
  client.destroy();
  return { handler, data: Records.map((r) => Buffer.from(r.Data).toString()), missing };
}

async function lambda() {
  const client = new LambdaClient(common);
  await client.send(new CreateFunctionCommand({
    FunctionName: "js-fn", Runtime: "python3.11", Handler: "app.handler",
    Role: "arn:aws:iam::000000000000:role/r",
    Code: { ZipFile: fs.readFileSync(process.env.HEADWATER_FUNCTION_ZIP) } }));
  const out = await client.send(new InvokeCommand({
    FunctionName: "js-fn", Payload: Buffer.from(JSON.stringify({ n: 41 })) }));
  const missing = await errorName(client.send(new GetFunctionCommand({ FunctionName: "missing" })));
  return { status: out.StatusCode, payload: JSON.parse(Buffer.from(out.Payload).toString()), missing };
}

(async () => {
  const http1 = new SQSClient(common);
  const http2 = new SQSClient({ ...common, requestHandler: new NodeHttp2Handler() });
  const result = {
    sqs_http1: await sqs(http1, "js-http1"),
    sqs_http2: await sqs(http2, "js-http2"),
    kinesis: await kinesis(),
    lambda: await lambda(),
  };
  http1.destroy();
  http2.destroy();
  console.log(JSON.stringify(result));
})().catch((error) => { console.error(error); process.exit(1); });
