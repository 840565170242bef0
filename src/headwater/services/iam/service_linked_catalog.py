"""The service-linked roles IAM creates for ``CreateServiceLinkedRole``.

Service principal -> (role name, the AWS managed policy attached to it under
``arn:aws:iam::aws:policy/aws-service-role/``, whether ``CustomSuffix`` is allowed), as AWS
answered for each (recorded by LocalStack's IAM snapshot tests; see tests/data/NOTICE).
"""

from __future__ import annotations

SERVICE_LINKED_ROLES: dict[str, tuple[str, str, bool]] = {
    "accountdiscovery.ssm.amazonaws.com": (
        "AWSServiceRoleForAmazonSSM_AccountDiscovery",
        "AWSSystemsManagerAccountDiscoveryServicePolicy",
        False,
    ),
    "acm.amazonaws.com": (
        "AWSServiceRoleForCertificateManager",
        "CertificateManagerServiceRolePolicy",
        False,
    ),
    "appmesh.amazonaws.com": ("AWSServiceRoleForAppMesh", "AWSAppMeshServiceRolePolicy", False),
    "autoscaling-plans.amazonaws.com": (
        "AWSServiceRoleForAutoScalingPlans_EC2AutoScaling",
        "AWSAutoScalingPlansEC2AutoScalingPolicy",
        False,
    ),
    "autoscaling.amazonaws.com": (
        "AWSServiceRoleForAutoScaling",
        "AutoScalingServiceRolePolicy",
        True,
    ),
    "backup.amazonaws.com": (
        "AWSServiceRoleForBackup",
        "AWSBackupServiceLinkedRolePolicyForBackup",
        False,
    ),
    "batch.amazonaws.com": ("AWSServiceRoleForBatch", "BatchServiceRolePolicy", False),
    "cassandra.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_CassandraTable",
        "AWSApplicationAutoscalingCassandraTablePolicy",
        False,
    ),
    "cks.kms.amazonaws.com": (
        "AWSServiceRoleForKeyManagementServiceCustomKeyStores",
        "AWSKeyManagementServiceCustomKeyStoresServiceRolePolicy",
        False,
    ),
    "cloudtrail.amazonaws.com": (
        "AWSServiceRoleForCloudTrail",
        "CloudTrailServiceRolePolicy",
        False,
    ),
    "codestar-notifications.amazonaws.com": (
        "AWSServiceRoleForCodeStarNotifications",
        "AWSCodeStarNotificationsServiceRolePolicy",
        False,
    ),
    "config.amazonaws.com": ("AWSServiceRoleForConfig", "AWSConfigServiceRolePolicy", False),
    "connect.amazonaws.com": (
        "AWSServiceRoleForAmazonConnect",
        "AmazonConnectServiceLinkedRolePolicy",
        True,
    ),
    "dms-fleet-advisor.amazonaws.com": (
        "AWSServiceRoleForDMSFleetAdvisor",
        "AWSDMSFleetAdvisorServiceRolePolicy",
        False,
    ),
    "dms.amazonaws.com": (
        "AWSServiceRoleForDMSServerless",
        "AWSDMSServerlessServiceRolePolicy",
        False,
    ),
    "docdb-elastic.amazonaws.com": (
        "AWSServiceRoleForDocDB-Elastic",
        "AmazonDocDB-ElasticServiceRolePolicy",
        False,
    ),
    "ec2-instance-connect.amazonaws.com": (
        "AWSServiceRoleForEc2InstanceConnect",
        "Ec2InstanceConnectEndpoint",
        False,
    ),
    "ec2.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_EC2SpotFleetRequest",
        "AWSApplicationAutoscalingEC2SpotFleetRequestPolicy",
        False,
    ),
    "ecr.amazonaws.com": ("AWSServiceRoleForECRTemplate", "ECRTemplateServiceRolePolicy", False),
    "ecs.amazonaws.com": ("AWSServiceRoleForECS", "AmazonECSServiceRolePolicy", False),
    "eks-connector.amazonaws.com": (
        "AWSServiceRoleForAmazonEKSConnector",
        "AmazonEKSConnectorServiceRolePolicy",
        False,
    ),
    "eks-fargate.amazonaws.com": (
        "AWSServiceRoleForAmazonEKSForFargate",
        "AmazonEKSForFargateServiceRolePolicy",
        False,
    ),
    "eks-nodegroup.amazonaws.com": (
        "AWSServiceRoleForAmazonEKSNodegroup",
        "AWSServiceRoleForAmazonEKSNodegroup",
        False,
    ),
    "eks.amazonaws.com": ("AWSServiceRoleForAmazonEKS", "AmazonEKSServiceRolePolicy", False),
    "elasticache.amazonaws.com": (
        "AWSServiceRoleForElastiCache",
        "ElastiCacheServiceRolePolicy",
        False,
    ),
    "elasticbeanstalk.amazonaws.com": (
        "AWSServiceRoleForElasticBeanstalk",
        "AWSElasticBeanstalkServiceRolePolicy",
        False,
    ),
    "elasticfilesystem.amazonaws.com": (
        "AWSServiceRoleForAmazonElasticFileSystem",
        "AmazonElasticFileSystemServiceRolePolicy",
        False,
    ),
    "elasticloadbalancing.amazonaws.com": (
        "AWSServiceRoleForElasticLoadBalancing",
        "AWSElasticLoadBalancingServiceRolePolicy",
        False,
    ),
    "email.cognito-idp.amazonaws.com": (
        "AWSServiceRoleForAmazonCognitoIdpEmailService",
        "AmazonCognitoIdpEmailServiceRolePolicy",
        False,
    ),
    "emr-containers.amazonaws.com": (
        "AWSServiceRoleForAmazonEMRContainers",
        "AmazonEMRContainersServiceRolePolicy",
        False,
    ),
    "emrwal.amazonaws.com": ("AWSServiceRoleForEMRWAL", "EMRDescribeClusterPolicyForEMRWAL", False),
    "fis.amazonaws.com": ("AWSServiceRoleForFIS", "AmazonFISServiceRolePolicy", False),
    "grafana.amazonaws.com": (
        "AWSServiceRoleForAmazonGrafana",
        "AmazonGrafanaServiceLinkedRolePolicy",
        False,
    ),
    "imagebuilder.amazonaws.com": (
        "AWSServiceRoleForImageBuilder",
        "AWSServiceRoleForImageBuilder",
        False,
    ),
    "iotmanagedintegrations.amazonaws.com": (
        "AWSServiceRoleForIoTManagedIntegrations",
        "AWSIoTManagedIntegrationsRolePolicy",
        False,
    ),
    "kafka.amazonaws.com": ("AWSServiceRoleForKafka", "KafkaServiceRolePolicy", False),
    "kafkaconnect.amazonaws.com": (
        "AWSServiceRoleForKafkaConnect",
        "KafkaConnectServiceRolePolicy",
        False,
    ),
    "lakeformation.amazonaws.com": (
        "AWSServiceRoleForLakeFormationDataAccess",
        "LakeFormationDataAccessServiceRolePolicy",
        False,
    ),
    "lex.amazonaws.com": ("AWSServiceRoleForLexBots", "AmazonLexBotPolicy", False),
    "lexv2.amazonaws.com": ("AWSServiceRoleForLexV2Bots", "AmazonLexV2BotPolicy", True),
    "lightsail.amazonaws.com": ("AWSServiceRoleForLightsail", "LightsailExportAccess", False),
    "m2.amazonaws.com": ("AWSServiceRoleForAWSM2", "AWSM2ServicePolicy", False),
    "memorydb.amazonaws.com": ("AWSServiceRoleForMemoryDB", "MemoryDBServiceRolePolicy", False),
    "mq.amazonaws.com": ("AWSServiceRoleForAmazonMQ", "AmazonMQServiceRolePolicy", False),
    "mrk.kms.amazonaws.com": (
        "AWSServiceRoleForKeyManagementServiceMultiRegionKeys",
        "AWSKeyManagementServiceMultiRegionKeysServiceRolePolicy",
        False,
    ),
    "notifications.amazonaws.com": (
        "AWSServiceRoleForAwsUserNotifications",
        "AWSUserNotificationsServiceLinkedRolePolicy",
        False,
    ),
    "observability.aoss.amazonaws.com": (
        "AWSServiceRoleForAmazonOpenSearchServerless",
        "AmazonOpenSearchServerlessServiceRolePolicy",
        False,
    ),
    "opensearchservice.amazonaws.com": (
        "AWSServiceRoleForAmazonOpenSearchService",
        "AmazonOpenSearchServiceRolePolicy",
        False,
    ),
    "ops.apigateway.amazonaws.com": (
        "AWSServiceRoleForAPIGateway",
        "APIGatewayServiceRolePolicy",
        False,
    ),
    "ops.emr-serverless.amazonaws.com": (
        "AWSServiceRoleForAmazonEMRServerless",
        "AmazonEMRServerlessServiceRolePolicy",
        False,
    ),
    "opsdatasync.ssm.amazonaws.com": (
        "AWSServiceRoleForSystemsManagerOpsDataSync",
        "AWSSystemsManagerOpsDataSyncServiceRolePolicy",
        False,
    ),
    "opsinsights.ssm.amazonaws.com": (
        "AWSServiceRoleForAmazonSSM_OpsInsights",
        "AWSSSMOpsInsightsServiceRolePolicy",
        False,
    ),
    "pullthroughcache.ecr.amazonaws.com": (
        "AWSServiceRoleForECRPullThroughCache",
        "AWSECRPullThroughCache_ServiceRolePolicy",
        False,
    ),
    "ram.amazonaws.com": (
        "AWSServiceRoleForResourceAccessManager",
        "AWSResourceAccessManagerServiceRolePolicy",
        False,
    ),
    "rds.amazonaws.com": ("AWSServiceRoleForRDS", "AmazonRDSServiceRolePolicy", False),
    "redshift.amazonaws.com": (
        "AWSServiceRoleForRedshift",
        "AmazonRedshiftServiceLinkedRolePolicy",
        False,
    ),
    "replication.cassandra.amazonaws.com": (
        "AWSServiceRoleForKeyspacesReplication",
        "KeyspacesReplicationServiceRolePolicy",
        False,
    ),
    "replication.ecr.amazonaws.com": (
        "AWSServiceRoleForECRReplication",
        "ECRReplicationServiceRolePolicy",
        False,
    ),
    "repository.sync.codeconnections.amazonaws.com": (
        "AWSServiceRoleForGitSync",
        "AWSGitSyncServiceRolePolicy",
        False,
    ),
    "resource-explorer-2.amazonaws.com": (
        "AWSServiceRoleForResourceExplorer",
        "AWSResourceExplorerServiceRolePolicy",
        False,
    ),
    "rolesanywhere.amazonaws.com": (
        "AWSServiceRoleForRolesAnywhere",
        "AWSRolesAnywhereServicePolicy",
        False,
    ),
    "s3-outposts.amazonaws.com": (
        "AWSServiceRoleForS3OnOutposts",
        "AWSS3OnOutpostsServiceRolePolicy",
        False,
    ),
    "ses.amazonaws.com": ("AWSServiceRoleForAmazonSES", "AmazonSESServiceRolePolicy", False),
    "shield.amazonaws.com": ("AWSServiceRoleForAWSShield", "AWSShieldServiceRolePolicy", False),
    "ssm-incidents.amazonaws.com": (
        "AWSServiceRoleForIncidentManager",
        "AWSIncidentManagerServiceRolePolicy",
        False,
    ),
    "ssm-quicksetup.amazonaws.com": (
        "AWSServiceRoleForSSMQuickSetup",
        "SSMQuickSetupRolePolicy",
        False,
    ),
    "ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM", "AmazonSSMServiceRolePolicy", False),
    "sso.amazonaws.com": ("AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy", False),
    "vpcorigin.cloudfront.amazonaws.com": (
        "AWSServiceRoleForCloudFrontVPCOrigin",
        "AWSCloudFrontVPCOriginServiceRolePolicy",
        False,
    ),
    "waf.amazonaws.com": ("AWSServiceRoleForWAFLogging", "WAFLoggingServiceRolePolicy", False),
    "wafv2.amazonaws.com": (
        "AWSServiceRoleForWAFV2Logging",
        "WAFV2LoggingServiceRolePolicy",
        False,
    ),
}

#: The description AWS gives the service-linked roles that have one.
SERVICE_LINKED_DESCRIPTIONS: dict[str, str] = {
    "rds.amazonaws.com": "Allows Amazon RDS to manage AWS resources on your behalf",
    "ssm.amazonaws.com": "Provides access to AWS Resources managed or used by Amazon SSM.",
    "sso.amazonaws.com": (
        "Service-linked role used by AWS SSO to manage AWS resources, including IAM roles, "
        "policies and SAML IdP on your behalf."
    ),
}
