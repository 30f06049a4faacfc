"""The ServiceNow Table API client: requests, paging, errors and sign-in. Knows nothing of playbooks."""
