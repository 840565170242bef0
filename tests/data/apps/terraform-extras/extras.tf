# Resources the seed001 configuration does not use, applied beside it by
# tests/integration/test_terraform_seed001.py: every attribute the provider reads back must
# match what it wrote (an empty plan after apply).

resource "aws_sqs_queue" "extra" {
  name                       = "extra-queue"
  visibility_timeout_seconds = 60
  delay_seconds              = 2
  max_message_size           = 131072
  tags                       = { team = "orders" }
}

resource "aws_sqs_queue" "extra_dlq" {
  name = "extra-queue-dlq"
}

resource "aws_sqs_queue_redrive_policy" "extra" {
  queue_url = aws_sqs_queue.extra.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.extra_dlq.arn
    maxReceiveCount     = 4
  })
}

resource "aws_sqs_queue_policy" "extra" {
  queue_url = aws_sqs_queue.extra.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "FromAlerts"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.extra.arn
    }]
  })
}

resource "aws_iam_role" "extra" {
  name                 = "extra-function-role"
  path                 = "/service/"
  description          = "runs the extra function"
  max_session_duration = 7200
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = { team = "orders" }
}

resource "aws_iam_role_policy_attachment" "extra_sqs" {
  role       = aws_iam_role.extra.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
}

resource "aws_lambda_function" "extra" {
  function_name    = "extra-function"
  runtime          = "python3.12"
  handler          = "handler.process_order"
  role             = aws_iam_role.extra.arn
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  publish          = true
  timeout          = 20
  memory_size      = 256
  description      = "published, aliased and mapped"

  environment {
    variables = {
      TABLE_NAME = "orders"
      QUEUE_URL  = aws_sqs_queue.extra.url
    }
  }

  ephemeral_storage {
    size = 1024
  }

  # With JSON logs, Lambda answers INFO for unset levels and provider 5.x then sees a
  # change on every plan (hashicorp/terraform-provider-aws#42181, as on AWS): set them.
  logging_config {
    log_format            = "JSON"
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }

  tags = { team = "orders" }
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "what the mapping invokes"
  function_name    = aws_lambda_function.extra.function_name
  function_version = aws_lambda_function.extra.version
}

resource "aws_lambda_permission" "from_alerts" {
  statement_id  = "AllowAlerts"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.extra.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "sns.amazonaws.com"
  source_arn    = "arn:aws:sns:us-east-1:000000000000:orders-alerts"
}

resource "aws_lambda_event_source_mapping" "extra" {
  event_source_arn = aws_sqs_queue.extra.arn
  function_name    = aws_lambda_alias.live.arn
  batch_size       = 5
  enabled          = false
  tags             = { team = "orders" }
}

resource "aws_kinesis_stream" "extra" {
  name             = "extra-stream"
  shard_count      = 2
  retention_period = 48
  tags             = { team = "orders" }
}

resource "aws_sns_topic_subscription" "extra" {
  topic_arn = "arn:aws:sns:us-east-1:000000000000:orders-alerts"
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.extra.arn

  depends_on = [aws_sns_topic.alerts]
}

resource "aws_cloudwatch_log_group" "extra" {
  name              = "/aws/lambda/extra-function"
  retention_in_days = 7
  tags              = { team = "orders" }
}
