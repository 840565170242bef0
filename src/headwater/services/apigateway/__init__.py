"""API Gateway REST APIs (``apigateway``): the minimum SAM ``Api`` events and boto3 users
need first, and what ``server.execute_api`` needs to serve a REST API's stages."""

from headwater.services.apigateway.service import ApiGatewayService

__all__ = ["ApiGatewayService"]
