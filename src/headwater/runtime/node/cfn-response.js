// The cfn-response module CloudFormation packages with a Node.js function's inline ZipFile
// code: send() PUTs a custom resource's answer to the request's ResponseURL, then ends the
// invocation with context.done(). headwater's own implementation of the documented
// interface (SUCCESS, FAILED, send(event, context, responseStatus, responseData,
// physicalResourceId, noEcho)), written into the code as node_modules/cfn-response by the
// Lambda function provider. The URL's own protocol and port are used.
'use strict';

exports.SUCCESS = 'SUCCESS';
exports.FAILED = 'FAILED';

exports.send = function send(event, context, responseStatus, responseData, physicalResourceId, noEcho) {
  const body = JSON.stringify({
    Status: responseStatus,
    Reason: 'See the details in CloudWatch Log Stream: ' + context.logStreamName,
    PhysicalResourceId: physicalResourceId || context.logStreamName,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: noEcho || false,
    Data: responseData,
  });
  console.log('Response body:\n', body);
  const url = new URL(event.ResponseURL);
  const transport = require(url.protocol === 'http:' ? 'http' : 'https');
  const request = transport.request(url, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
  }, (response) => {
    console.log('Status code: ' + response.statusCode);
    response.resume();
    response.on('end', () => context.done());
  });
  request.on('error', (error) => {
    console.log('send(..) failed executing https.request(..): ' + error);
    context.done();
  });
  request.write(body);
  request.end();
};
