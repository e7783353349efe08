"""AWS CDK app for the exitus issue-tracking API."""
