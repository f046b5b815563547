"""The multi-stage run of one discovery task: plan → discover → pre-filter → enrich → evaluate → rank."""
