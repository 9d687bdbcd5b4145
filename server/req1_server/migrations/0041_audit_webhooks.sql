-- #13 §7: webhooks (0030) are audited like every other resource; their signing secret is listed in "fields"
-- when it changes and its value is never recorded. Deliveries are the system's own queue, not audited.
CREATE TRIGGER audit_webhook AFTER INSERT OR UPDATE OR DELETE ON webhook
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row('secret');
