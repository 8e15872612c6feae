-- The migration plan's literal data migration (section 2.2), the reference that
-- PLAN_MAPPING's generated backfill must match.
UPDATE campaigns
SET current_phase = CASE campaign_type
    WHEN 'domain_generation' THEN 'domain_generation'
    WHEN 'dns_validation' THEN 'dns_validation'
    WHEN 'http_keyword_validation' THEN 'http_validation'
    ELSE 'domain_generation'
END,
phase_status = CASE status
    WHEN 'running' THEN 'running'
    WHEN 'completed' THEN 'completed'
    WHEN 'failed' THEN 'failed'
    ELSE 'pending'
END,
progress = COALESCE(progress_percentage, 0.0)
WHERE current_phase IS NULL
