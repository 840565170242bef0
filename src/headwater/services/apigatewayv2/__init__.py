"""API Gateway HTTP APIs (``apigatewayv2``): the control plane, and what ``server.execute_api``
needs to serve an API's routes."""

from headwater.services.apigatewayv2.service import ApiGatewayV2Service

__all__ = ["ApiGatewayV2Service"]
