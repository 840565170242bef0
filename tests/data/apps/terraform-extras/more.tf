# More resources users write beside an event-driven app, applied with seed001 and extras.tf
# by tests/integration/test_terraform_seed001.py: every attribute the provider reads back
# must match what it wrote (an empty plan after apply, and again after the update).
# The update step replaces the value of each line marked "# update: <new value>" with the
# new value (update in place).

# --- DynamoDB: a provisioned table with indexes, TTL, a stream and backups --------------

resource "aws_dynamodb_table" "more" {
  name           = "more-events"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5 # update: 10
  write_capacity = 5
  hash_key       = "pk"
  range_key      = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "customer"
    type = "S"
  }
  attribute {
    name = "created"
    type = "N"
  }

  global_secondary_index {
    name               = "by-customer"
    hash_key           = "customer"
    range_key          = "created"
    projection_type    = "INCLUDE"
    non_key_attributes = ["total"]
    read_capacity      = 2
    write_capacity     = 2
  }

  local_secondary_index {
    name            = "by-created"
    range_key       = "created"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expires"
    enabled        = true
  }

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = true
  }

  tags = { team = "orders" } # update: { team = "orders", tier = "gold" }
}

resource "aws_dynamodb_table" "more_on_demand" {
  name         = "more-on-demand"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  table_class  = "STANDARD_INFREQUENT_ACCESS"

  attribute {
    name = "id"
    type = "N"
  }
  attribute {
    name = "kind"
    type = "S"
  }

  global_secondary_index {
    name            = "by-kind"
    hash_key        = "kind"
    projection_type = "ALL"
    # not updated with the table's maximums: the provider sends both in one UpdateTable,
    # which DynamoDB refuses (OnDemandThroughput goes only with BillingMode)
    on_demand_throughput {
      max_read_request_units  = 10
      max_write_request_units = 10
    }
  }

  on_demand_throughput {
    max_read_request_units  = 100 # update: 200
    max_write_request_units = 50
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table_item" "more" {
  table_name = aws_dynamodb_table.more.name
  hash_key   = aws_dynamodb_table.more.hash_key
  range_key  = aws_dynamodb_table.more.range_key
  item = jsonencode({
    pk       = { S = "CUSTOMER#1" }
    sk       = { S = "PROFILE" }
    customer = { S = "CUST-001" }
    created  = { N = "1767225600" }
    total    = { N = "40" }
    tags     = { SS = ["a", "b"] }
  })
}

# --- SNS: standard and FIFO topics, policies ------------------------------------------

resource "aws_sns_topic" "more" {
  name         = "more-notices"
  display_name = "More notices" # update: "More notices, v2"
  delivery_policy = jsonencode({
    http = {
      defaultHealthyRetryPolicy = {
        minDelayTarget     = 20
        maxDelayTarget     = 20
        numRetries         = 3
        numMaxDelayRetries = 0
        numNoDelayRetries  = 0
        numMinDelayRetries = 0
        backoffFunction    = "linear"
      }
      disableSubscriptionOverrides = false
    }
  })
  tags = { team = "orders" }
}

resource "aws_sns_topic_policy" "more" {
  arn = aws_sns_topic.more.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "FromCloudWatch" # update: "FromAlarms"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.more.arn
    }]
  })
}

resource "aws_sns_topic" "more_fifo" {
  name                        = "more-notices.fifo"
  fifo_topic                  = true
  content_based_deduplication = true
  signature_version           = 2
  tracing_config              = "Active"
  kms_master_key_id           = "alias/aws/sns"
  fifo_throughput_scope       = "MessageGroup"
  archive_policy              = jsonencode({ MessageRetentionPeriod = 30 })
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OwnerPublishes"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::000000000000:root" }
      Action    = "sns:Publish"
      Resource  = "arn:aws:sns:us-east-1:000000000000:more-notices.fifo"
    }]
  })
}

# --- SQS: a KMS-encrypted queue, and a dead-letter queue only it may use ------------

resource "aws_sqs_queue" "more_encrypted" {
  name                              = "more-encrypted"
  kms_master_key_id                 = "alias/aws/sqs"
  kms_data_key_reuse_period_seconds = 600
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.more_encrypted_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue" "more_encrypted_dlq" {
  name = "more-encrypted-dlq"
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["arn:aws:sqs:us-east-1:000000000000:more-encrypted"]
  })
}

# --- CloudWatch: alarms on a metric, a percentile and a metric math expression --------

resource "aws_cloudwatch_metric_alarm" "more_throttles" {
  alarm_name          = "more-throttles"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  metric_name         = "Throttles"
  namespace           = "AWS/Lambda"
  period              = 60
  statistic           = "Sum"
  threshold           = 1 # update: 2
  treat_missing_data  = "notBreaching"
  dimensions          = { FunctionName = aws_lambda_function.more.function_name }
  alarm_actions       = [aws_sns_topic.more.arn]
  ok_actions          = [aws_sns_topic.more.arn]
  tags                = { team = "orders" }
}

resource "aws_cloudwatch_metric_alarm" "more_latency" {
  alarm_name          = "more-latency-p99"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "Duration"
  namespace           = "AWS/Lambda"
  period              = 300
  extended_statistic  = "p99"
  threshold           = 1000
  unit                = "Milliseconds"
  dimensions          = { FunctionName = aws_lambda_function.more.function_name }
  actions_enabled     = false
}

resource "aws_cloudwatch_metric_alarm" "more_error_rate" {
  alarm_name                = "more-error-rate"
  comparison_operator       = "GreaterThanThreshold"
  evaluation_periods        = 2
  threshold                 = 5
  alarm_description         = "errors per invocation, in percent"
  insufficient_data_actions = []

  metric_query {
    id          = "rate"
    expression  = "100 * errors / invocations"
    label       = "Error rate"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      metric_name = "Errors"
      namespace   = "AWS/Lambda"
      period      = 60
      stat        = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.more.function_name }
    }
  }
  metric_query {
    id = "invocations"
    metric {
      metric_name = "Invocations"
      namespace   = "AWS/Lambda"
      period      = 60
      stat        = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.more.function_name }
    }
  }
}

# --- SSM parameters ------------------------------------------------------------------

resource "aws_ssm_parameter" "more_string" {
  name        = "/more/config/table"
  type        = "String"
  value       = aws_dynamodb_table.more.name
  description = "the events table" # update: "where the events are"
  tags        = { team = "orders" }
}

resource "aws_ssm_parameter" "more_list" {
  name  = "/more/config/regions"
  type  = "StringList"
  value = "us-east-1,eu-west-1" # update: "us-east-1,eu-west-1,ap-south-1"
}

resource "aws_ssm_parameter" "more_pattern" {
  name            = "/more/config/batch"
  type            = "String"
  value           = "25"
  allowed_pattern = "^[0-9]+$"
  data_type       = "text"
  tier            = "Intelligent-Tiering"
}

resource "aws_ssm_parameter" "more_secret" {
  name  = "/more/secret/token"
  type  = "SecureString"
  value = "s3cr3t"
  tier  = "Standard"
}

# --- Secrets Manager: secrets, their versions, a resource policy ---------------------

resource "aws_secretsmanager_secret" "more" {
  name                    = "more/db-credentials"
  description             = "the database login" # update: "the database login, rotated by hand"
  recovery_window_in_days = 0
  tags                    = { team = "orders" }
}

resource "aws_secretsmanager_secret_version" "more" {
  secret_id     = aws_secretsmanager_secret.more.id
  secret_string = jsonencode({ username = "app", password = "first" })
}

resource "aws_secretsmanager_secret_policy" "more" {
  secret_arn = aws_secretsmanager_secret.more.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReadByTheAccount"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.more.account_id}:root" }
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
    }]
  })
}

# A generated name, a binary value with a label of its own, and a recovery window: destroy
# leaves it scheduled for deletion.
resource "aws_secretsmanager_secret" "more_binary" {
  name_prefix             = "more-binary-"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "more_binary" {
  secret_id      = aws_secretsmanager_secret.more_binary.id
  secret_binary  = base64encode("binary key")
  version_stages = ["AWSCURRENT", "initial"]
}

# --- Cognito: a user pool, an app client with a secret, a group -------------------

resource "aws_cognito_user_pool" "more" {
  name                     = "more-users"
  auto_verified_attributes = ["email"]
  username_attributes      = ["email"]

  password_policy {
    minimum_length                   = 10 # update: 12
    require_lowercase                = true
    require_numbers                  = true
    require_symbols                  = false
    require_uppercase                = true
    temporary_password_validity_days = 3
  }

  schema {
    name                = "tenant"
    attribute_data_type = "String"
    mutable             = true
    string_attribute_constraints {
      min_length = 1
      max_length = 64
    }
  }

  tags = { team = "orders" }
}

resource "aws_cognito_user_pool_client" "more" {
  name                = "more-web"
  user_pool_id        = aws_cognito_user_pool.more.id
  generate_secret     = true
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  access_token_validity = 2
  token_validity_units {
    access_token = "hours"
  }
}

resource "aws_cognito_user_group" "more" {
  name         = "more-admins"
  user_pool_id = aws_cognito_user_pool.more.id
  description  = "operators"
  precedence   = 1
}

# --- Step Functions: a state machine calling more-function -------------------------

resource "aws_sfn_state_machine" "more" {
  name     = "more-flow"
  role_arn = aws_iam_role.more.arn
  type     = "STANDARD"
  definition = jsonencode({
    Comment = "enrich then call the function"
    StartAt = "Enrich"
    States = {
      Enrich = {
        Type       = "Pass"
        Result     = "first" # update: "second"
        ResultPath = "$.stage"
        Next       = "Call"
      }
      Call = {
        Type     = "Task"
        Resource = aws_lambda_function.more.arn
        End      = true
      }
    }
  })
  tags = { team = "orders" } # update: { team = "payments" }
}

# --- IAM: a managed policy, inline policies, a user ---------------------------------

resource "aws_iam_role" "more" {
  name                 = "more-function-role"
  permissions_boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_policy" "more_streams" {
  name        = "more-streams"
  path        = "/app/"
  description = "reads the events table's stream and the stream"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "dynamodb:DescribeStream",
          "dynamodb:GetRecords",
          "dynamodb:GetShardIterator",
          "dynamodb:ListStreams",
        ]
        Resource = aws_dynamodb_table.more.stream_arn # update: [aws_dynamodb_table.more.stream_arn, "${aws_dynamodb_table.more.arn}/stream/*"]
      },
      {
        Effect = "Allow"
        Action = [
          "kinesis:DescribeStream",
          "kinesis:DescribeStreamSummary",
          "kinesis:GetRecords",
          "kinesis:GetShardIterator",
          "kinesis:ListShards",
          "kinesis:SubscribeToShard",
        ]
        Resource = [aws_kinesis_stream.more.arn, aws_kinesis_stream_consumer.more.arn]
      },
    ]
  })
  tags = { team = "orders" }
}

resource "aws_iam_role_policy_attachment" "more_streams" {
  role       = aws_iam_role.more.name
  policy_arn = aws_iam_policy.more_streams.arn
}

resource "aws_iam_role_policy" "more_destinations" {
  name = "more-destinations"
  role = aws_iam_role.more.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:SendMessage", "sns:Publish"]
      Resource = [aws_sqs_queue.extra_dlq.arn, aws_sns_topic.more.arn]
    }]
  })
}

resource "aws_iam_user" "more" {
  name = "more-deployer"
  path = "/ci/"
  tags = { team = "orders" }
}

resource "aws_iam_user_policy" "more" {
  name = "more-deploy"
  user = aws_iam_user.more.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "lambda:UpdateFunctionCode" # update: ["lambda:UpdateFunctionCode", "lambda:PublishVersion"]
      Resource = aws_lambda_function.more.arn
    }]
  })
}

# --- Lambda: a layer, a published function, its async config, provisioned concurrency -

resource "aws_lambda_layer_version" "more" {
  layer_name          = "more-shared"
  description         = "shared modules"
  filename            = var.lambda_zip_path
  source_code_hash    = filebase64sha256(var.lambda_zip_path)
  compatible_runtimes = ["python3.12", "python3.11"]
}

resource "aws_lambda_layer_version_permission" "more" {
  layer_name     = aws_lambda_layer_version.more.layer_arn
  version_number = aws_lambda_layer_version.more.version
  statement_id   = "everyone"
  action         = "lambda:GetLayerVersion"
  principal      = "*"
}

resource "aws_lambda_function" "more" {
  function_name    = "more-function"
  runtime          = "python3.12"
  handler          = "handler.process_order"
  role             = aws_iam_role.more.arn
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  layers           = [aws_lambda_layer_version.more.arn]
  publish          = true
  timeout          = 30
  architectures    = ["arm64"]

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.more.name
  }

  tracing_config {
    mode = "PassThrough" # update: "Active"
  }

  environment {
    variables = {
      TABLE_NAME = aws_dynamodb_table.more.name
      QUEUE_URL  = aws_sqs_queue.extra_dlq.url
    }
  }
}

resource "aws_lambda_alias" "more" {
  name             = "current"
  function_name    = aws_lambda_function.more.function_name
  function_version = aws_lambda_function.more.version
}

resource "aws_lambda_function_event_invoke_config" "more" {
  function_name                = aws_lambda_function.more.function_name
  maximum_event_age_in_seconds = 3600 # update: 7200
  maximum_retry_attempts       = 1

  destination_config {
    on_failure {
      destination = aws_sqs_queue.extra_dlq.arn
    }
    on_success {
      destination = aws_sns_topic.more.arn
    }
  }
}

resource "aws_lambda_provisioned_concurrency_config" "more" {
  function_name                     = aws_lambda_function.more.function_name
  qualifier                         = aws_lambda_alias.more.name
  provisioned_concurrent_executions = 2
}

# A function URL on the alias, served by headwater serve (docs/function-urls.md); with
# authorization NONE the provider also adds the public InvokeFunctionUrl permission.
resource "aws_lambda_function_url" "more" {
  function_name      = aws_lambda_function.more.function_name
  qualifier          = aws_lambda_alias.more.name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"

  cors {
    allow_credentials = true
    allow_origins     = ["http://localhost:3000"]
    allow_methods     = ["GET", "POST"]
    allow_headers     = ["x-custom"]
    expose_headers    = ["x-request"]
    max_age           = 60 # update: 120
  }
}

# --- API Gateway: an HTTP API in front of the function (docs/api-gateway.md) -------------

resource "aws_apigatewayv2_api" "more" {
  name          = "more-http"
  protocol_type = "HTTP"
  description   = "more.tf's HTTP API" # update: "more.tf's HTTP API, changed"

  cors_configuration {
    allow_origins = ["http://localhost:3000"]
    allow_methods = ["GET", "POST"]
    max_age       = 60 # update: 300
  }

  tags = {
    app = "more"
  }
}

resource "aws_apigatewayv2_integration" "more" {
  api_id                 = aws_apigatewayv2_api.more.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.more.arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000 # update: 20000
}

resource "aws_apigatewayv2_route" "more" {
  api_id    = aws_apigatewayv2_api.more.id
  route_key = "POST /orders/{id}"
  target    = "integrations/${aws_apigatewayv2_integration.more.id}"
}

resource "aws_apigatewayv2_stage" "more" {
  api_id      = aws_apigatewayv2_api.more.id
  name        = "$default"
  auto_deploy = true

  stage_variables = {
    color = "blue" # update: "green"
  }
}

# --- Kinesis: a stream with an enhanced fan-out consumer ------------------------------

resource "aws_kinesis_stream" "more" {
  name             = "more-stream"
  retention_period = 24 # update: 48

  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }
}

resource "aws_kinesis_stream_consumer" "more" {
  name       = "more-consumer"
  stream_arn = aws_kinesis_stream.more.arn
}

# --- Event source mappings from the table's stream and from the Kinesis stream ---------

resource "aws_lambda_event_source_mapping" "more_table" {
  event_source_arn               = aws_dynamodb_table.more.stream_arn
  function_name                  = aws_lambda_function.more.arn
  starting_position              = "LATEST"
  batch_size                     = 50 # update: 25
  maximum_retry_attempts         = 2
  maximum_record_age_in_seconds  = 3600
  bisect_batch_on_function_error = true
  parallelization_factor         = 2
  function_response_types        = ["ReportBatchItemFailures"]

  filter_criteria {
    filter {
      pattern = jsonencode({ eventName = ["INSERT", "MODIFY"] })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.extra_dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy_attachment.more_streams, aws_iam_role_policy.more_destinations]
}

resource "aws_lambda_event_source_mapping" "more_stream" {
  event_source_arn                   = aws_kinesis_stream.more.arn
  function_name                      = aws_lambda_alias.more.arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = 100
  maximum_batching_window_in_seconds = 10
  tumbling_window_in_seconds         = 60

  metrics_config {
    metrics = ["EventCount"]
  }
  maximum_retry_attempts             = -1
  maximum_record_age_in_seconds      = -1

  filter_criteria {
    filter {
      pattern = jsonencode({ data = { kind = ["order"] } })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sns_topic.more.arn
    }
  }

  depends_on = [aws_iam_role_policy_attachment.more_streams, aws_iam_role_policy.more_destinations]
}

resource "aws_lambda_event_source_mapping" "more_consumer" {
  event_source_arn            = aws_kinesis_stream_consumer.more.arn
  function_name               = aws_lambda_function.more.arn
  starting_position           = "AT_TIMESTAMP"
  starting_position_timestamp = "2026-01-01T00:00:00Z"
  batch_size                  = 20 # update: 40

  depends_on = [aws_iam_role_policy_attachment.more_streams, aws_iam_role_policy.more_destinations]
}

# --- S3 objects in the seed's archive bucket -----------------------------------------

resource "aws_s3_object" "more_content" {
  bucket       = aws_s3_bucket.dlq_archive.bucket
  key          = "config/settings.json"
  content      = jsonencode({ retries = 3 }) # update: jsonencode({ retries = 5 })
  content_type = "application/json"
  metadata     = { owner = "orders" }
  tags         = { team = "orders" }
}

resource "aws_s3_object" "more_source" {
  bucket        = aws_s3_bucket.dlq_archive.bucket
  key           = "code/lambda.zip"
  source        = var.lambda_zip_path
  etag          = filemd5(var.lambda_zip_path)
  cache_control = "no-cache"
}

# --- Firehose: a delivery stream into the bucket --------------------------------------

resource "aws_kinesis_firehose_delivery_stream" "more" {
  name        = "more-events"
  destination = "extended_s3"
  extended_s3_configuration {
    role_arn            = aws_iam_role.more.arn
    bucket_arn          = aws_s3_bucket.more.arn
    prefix              = "events/"
    error_output_prefix = "failed/"
    buffering_interval  = 60 # update: 120
    buffering_size      = 1
    compression_format  = "GZIP"
  }
  tags = { team = "orders" }
}

# --- S3: a bucket with its configurations -------------------------------------------

resource "aws_s3_bucket" "more" {
  bucket        = "more-artifacts"
  force_destroy = true
  tags          = { team = "orders" } # update: { team = "orders", tier = "gold" }
}

resource "aws_s3_bucket_versioning" "more" {
  bucket = aws_s3_bucket.more.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "more" {
  bucket = aws_s3_bucket.more.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "alias/aws/s3"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "more" {
  bucket                  = aws_s3_bucket.more.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "more" {
  bucket = aws_s3_bucket.more.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "more" {
  bucket = aws_s3_bucket.more.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.more.arn, "${aws_s3_bucket.more.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.more]
}

# The provider waits for three equal reads 10 s apart after each put (~55 s): created, not
# updated, to keep the run short.
resource "aws_s3_bucket_lifecycle_configuration" "more" {
  bucket = aws_s3_bucket.more.id

  rule {
    id     = "expire-tmp"
    status = "Enabled"
    filter {
      prefix = "tmp/"
    }
    expiration {
      days = 7
    }
  }

  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }

  depends_on = [aws_s3_bucket_versioning.more]
}

resource "aws_s3_bucket_cors_configuration" "more" {
  bucket = aws_s3_bucket.more.id
  cors_rule {
    allowed_headers = ["*"]
    allowed_methods = ["GET", "PUT"]
    allowed_origins = ["https://example.com"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000 # update: 600
  }
}

resource "aws_s3_bucket_notification" "more" {
  bucket      = aws_s3_bucket.more.id
  eventbridge = true

  queue {
    queue_arn     = aws_sqs_queue.extra_dlq.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "incoming/"
  }

  lambda_function {
    lambda_function_arn = aws_lambda_function.more.arn
    events              = ["s3:ObjectRemoved:*"]
  }

  topic {
    topic_arn     = aws_sns_topic.more.arn
    events        = ["s3:ObjectCreated:Put"]
    filter_prefix = "reports/"
  }

  depends_on = [aws_lambda_permission.more_from_bucket]
}

resource "aws_s3_object" "more_versioned" {
  bucket  = aws_s3_bucket.more.id
  key     = "incoming/first.txt"
  content = "first"

  depends_on = [aws_s3_bucket_versioning.more]
}

# --- SNS subscriptions with filter policies and a redrive policy ----------------------

resource "aws_sns_topic_subscription" "more_queue" {
  topic_arn            = aws_sns_topic.more.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.extra_dlq.arn
  raw_message_delivery = true
  filter_policy_scope  = "MessageBody"
  filter_policy        = jsonencode({ kind = ["order"] }) # update: jsonencode({ kind = ["order", "refund"] })
}

resource "aws_sns_topic_subscription" "more_function" {
  topic_arn     = aws_sns_topic.more.arn
  protocol      = "lambda"
  endpoint      = aws_lambda_function.more.arn
  filter_policy = jsonencode({ severity = [{ numeric = [">=", 3] }] })
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.extra_dlq.arn
  })
}

resource "aws_lambda_permission" "more_from_topic" {
  statement_id  = "FromNotices"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.more.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.more.arn
}

resource "aws_lambda_permission" "more_from_bucket" {
  statement_id   = "FromArchive"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.more.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.more.arn
  source_account = "000000000000"
}

# --- Lambda: its log group, recursion and runtime settings ----------------------------

resource "aws_cloudwatch_log_group" "more" {
  name              = "/aws/lambda/more-function"
  retention_in_days = 14 # update: 30
}

resource "aws_cloudwatch_log_metric_filter" "more_errors" {
  name           = "more-errors"
  log_group_name = aws_cloudwatch_log_group.more.name
  pattern        = "ERROR" # update: "?ERROR ?FATAL"

  metric_transformation {
    name          = "MoreErrors"
    namespace     = "More"
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_log_group" "more_archive" {
  name            = "/more/archive"
  log_group_class = "INFREQUENT_ACCESS"
  skip_destroy    = false
  tags            = { team = "orders" }
}

resource "aws_lambda_permission" "more_from_logs" {
  statement_id   = "FromArchiveLogs"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.more.function_name
  principal      = "logs.amazonaws.com"
  source_arn     = "${aws_cloudwatch_log_group.more_archive.arn}:*"
  source_account = "000000000000"
}

resource "aws_cloudwatch_log_subscription_filter" "more_archive" {
  name            = "more-archive-errors"
  log_group_name  = aws_cloudwatch_log_group.more_archive.name
  filter_pattern  = "ERROR" # update: "?ERROR ?FATAL"
  destination_arn = aws_lambda_function.more.arn
  distribution    = "ByLogStream"

  depends_on = [aws_lambda_permission.more_from_logs]
}

resource "aws_cloudwatch_log_stream" "more" {
  name           = "deployments"
  log_group_name = aws_cloudwatch_log_group.more.name
}

resource "aws_lambda_function_recursion_config" "more" {
  function_name  = aws_lambda_function.more.function_name
  recursive_loop = "Allow"
}

resource "aws_lambda_runtime_management_config" "more" {
  function_name     = aws_lambda_function.more.function_name
  update_runtime_on = "FunctionUpdate"
}

# --- IAM: a group, its members, an instance profile, an access key --------------------

resource "aws_iam_group" "more" {
  name = "more-deployers"
  path = "/ci/"
}

resource "aws_iam_group_policy" "more" {
  name  = "more-read"
  group = aws_iam_group.more.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["lambda:GetFunction", "lambda:ListFunctions"]
      Resource = "*"
    }]
  })
}

resource "aws_iam_group_policy_attachment" "more" {
  group      = aws_iam_group.more.name
  policy_arn = aws_iam_policy.more_streams.arn
}

resource "aws_iam_user_group_membership" "more" {
  user   = aws_iam_user.more.name
  groups = [aws_iam_group.more.name]
}

resource "aws_iam_user_policy_attachment" "more" {
  user       = aws_iam_user.more.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_access_key" "more" {
  user   = aws_iam_user.more.name
  status = "Active" # update: "Inactive"
}

resource "aws_iam_instance_profile" "more" {
  name = "more-workers"
  role = aws_iam_role.more.name
  tags = { team = "orders" }
}

resource "aws_iam_role" "more_worker" {
  name = "more-worker-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  inline_policy {
    name = "read-config"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "ssm:GetParameter"
        Resource = aws_ssm_parameter.more_string.arn
      }]
    })
  }
}

# Exclusive: any other policy attached to the role is detached
resource "aws_iam_role_policy_attachments_exclusive" "more_worker" {
  role_name   = aws_iam_role.more_worker.name
  policy_arns = [aws_iam_policy.more_streams.arn]
}

resource "aws_iam_role_policies_exclusive" "more_worker" {
  role_name    = aws_iam_role.more_worker.name
  policy_names = ["read-config"]
}

resource "aws_iam_policy_attachment" "more_readers" {
  name       = "more-readers"
  policy_arn = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
  users      = [aws_iam_user.more.name]
  groups     = [aws_iam_group.more.name]
}

resource "aws_iam_service_linked_role" "more" {
  aws_service_name = "autoscaling.amazonaws.com"
  custom_suffix    = "more"
  description      = "scales the workers"
}

# --- Lambda: invoked once at apply ----------------------------------------------------

resource "aws_lambda_invocation" "more" {
  function_name = aws_lambda_function.more.function_name
  qualifier     = aws_lambda_alias.more.name
  input         = jsonencode({ Records = [] })
}

# --- Kinesis: a resource policy -------------------------------------------------------

resource "aws_kinesis_resource_policy" "more" {
  resource_arn = aws_kinesis_stream.more.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReadFromRole"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.more.arn }
      Action    = ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"]
      Resource  = aws_kinesis_stream.more.arn
    }]
  })
}

# --- EventBridge: a custom bus, a pattern rule to the function, a schedule to a queue ----

resource "aws_cloudwatch_event_bus" "more" {
  name = "more-bus"
  tags = {
    team = "orders"
  }
}

resource "aws_cloudwatch_event_rule" "more_orders" {
  name           = "more-orders"
  description    = "orders placed" # update: "orders placed or changed"
  event_bus_name = aws_cloudwatch_event_bus.more.name
  event_pattern = jsonencode({
    source      = ["more.shop"]
    detail-type = ["Order Placed"]
  })
  tags = {
    team = "orders"
  }
}

resource "aws_cloudwatch_event_target" "more_orders" {
  rule           = aws_cloudwatch_event_rule.more_orders.name
  event_bus_name = aws_cloudwatch_event_bus.more.name
  target_id      = "more-function"
  arn            = aws_lambda_function.more.arn
  input_path     = "$.detail"
}

resource "aws_lambda_permission" "more_from_events" {
  statement_id  = "FromEvents"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.more.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.more_orders.arn
}

resource "aws_cloudwatch_event_rule" "more_tick" {
  name                = "more-tick"
  schedule_expression = "rate(5 minutes)" # update: "rate(10 minutes)"
  state               = "ENABLED"
}

resource "aws_cloudwatch_event_target" "more_tick" {
  rule      = aws_cloudwatch_event_rule.more_tick.name
  target_id = "encrypted"
  arn       = aws_sqs_queue.more_encrypted.arn
  input_transformer {
    input_paths = {
      time = "$.time"
    }
    input_template = "{\"at\": <time>}"
  }
}

# --- EventBridge Scheduler: a group and a schedule in a time zone to a queue -------------

resource "aws_scheduler_schedule_group" "more" {
  name = "more-jobs"
  tags = {
    team = "orders"
  }
}

resource "aws_scheduler_schedule" "more_nightly" {
  name                         = "more-nightly"
  group_name                   = aws_scheduler_schedule_group.more.name
  description                  = "the nightly job" # update: "the nightly job, later"
  schedule_expression          = "cron(30 1 * * ? *)" # update: "cron(45 1 * * ? *)"
  schedule_expression_timezone = "Europe/Paris"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sqs_queue.more_encrypted.arn
    role_arn = aws_iam_role.more_worker.arn
    input    = jsonencode({ job = "nightly" })

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}

# --- KMS: a key with rotation and its alias -------------------------------------------

resource "aws_kms_key" "more" {
  description             = "the orders data key" # update: "the orders data key, rotated"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  tags                    = { team = "orders" }
}

resource "aws_kms_alias" "more" {
  name          = "alias/more-orders"
  target_key_id = aws_kms_key.more.key_id
}

# --- SES: the addresses and domain the app sends from -------------------------------------

resource "aws_ses_email_identity" "more" {
  email = "orders@example.com"
}

resource "aws_sesv2_email_identity" "more" {
  email_identity = "more.example.org"
  tags           = { team = "orders" }
}

# --- Data sources: what a configuration reads back -----------------------------------

data "aws_caller_identity" "more" {}

data "aws_region" "more" {}

data "aws_ssm_parameter" "more" {
  name       = aws_ssm_parameter.more_secret.name
  depends_on = [aws_ssm_parameter.more_secret]
}

data "aws_dynamodb_table" "more" {
  name = aws_dynamodb_table.more.name
}

data "aws_lambda_function" "more" {
  function_name = aws_lambda_function.more.function_name
}

data "aws_iam_role" "more" {
  name = aws_iam_role.more.name
}

data "aws_sns_topic" "more" {
  name = aws_sns_topic.more.name
}

data "aws_kinesis_stream" "more" {
  name = aws_kinesis_stream.more.name
}

data "aws_secretsmanager_secret_version" "more" {
  secret_id  = aws_secretsmanager_secret.more.id
  depends_on = [aws_secretsmanager_secret_version.more]
}

data "aws_secretsmanager_secret" "more" {
  arn = aws_secretsmanager_secret.more.arn
}

data "aws_sqs_queue" "more" {
  name = aws_sqs_queue.extra_dlq.name
}

output "more_read_back" {
  value = join(" ", [
    aws_lambda_invocation.more.result,
    data.aws_caller_identity.more.account_id,
    data.aws_region.more.name,
    nonsensitive(data.aws_ssm_parameter.more.value),
    data.aws_dynamodb_table.more.stream_arn,
    data.aws_lambda_function.more.version,
    data.aws_iam_role.more.arn,
    data.aws_sns_topic.more.arn,
    data.aws_kinesis_stream.more.stream_mode_details[0].stream_mode,
    data.aws_sqs_queue.more.url,
    jsondecode(nonsensitive(data.aws_secretsmanager_secret_version.more.secret_string))["username"],
    data.aws_secretsmanager_secret.more.name,
  ])
}
