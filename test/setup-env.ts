// Every test process: a region and dummy credentials for SDK clients that tests point at local
// servers or mocks (never at AWS), and no Node-version nag from the SDK (Lambda runs Node 22;
// this machine runs Node 20).
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
