package rtmp

// reasonUnauthorized labels publishers that publish authentication refused.
const reasonUnauthorized = "unauthorized"

// refuseUnauthorized answers a publish the hub's authorizer refused with an error status the
// publisher can show; the connection then closes. err says why (the refusal's reason) and
// never holds a credential, so it may be logged.
func (c *conn) refuseUnauthorized(cmd *command, err error) error {
	c.s.Metrics.reject(reasonUnauthorized)
	c.refuse(cmd, "NetStream.Publish.Unauthorized", "publish not authorized")
	return withReason(reasonUnauthorized, err)
}
