// Package providers holds the notify.Sender implementations: the production
// ones (SESEmail through Amazon SES v2, SNSSMS and SNSPush through Amazon
// SNS) and the local ones (SMTP to Mailpit, Sink to the local platform's
// message sink), and the wiring that picks one per channel from the
// environment (ConfigFromEnv, Senders).
//
// Every sender classifies its failures the way notify.Sender asks: an error
// about the message itself (invalid phone number, rejected address, disabled
// device endpoint, a request the provider refuses as invalid) is marked with
// apperr.MarkPermanent and never retried; throttling, server errors, network
// errors and account or configuration problems (suspended sending, missing
// permissions) are returned as they are, so the dispatcher retries them with
// backoff, then on the job's redeliveries (notify.Options.FinalReceive),
// and only then records the delivery as failed.
package providers

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/labchain/appointments/shared/apperr"
)

// Error codes of AWS APIs (smithy error codes) by how a sender treats them.
var (
	// transientCodes are retried: throttling, server-side failures, and
	// account or configuration problems that an operator fixes (the messages
	// then go out on retry or redrive).
	transientCodes = map[string]bool{
		// Throttling.
		"Throttling": true, "ThrottlingException": true, "Throttled": true, "ThrottledException": true,
		"TooManyRequestsException": true, "RequestLimitExceeded": true, "SlowDown": true,
		"LimitExceededException": true, "KMSThrottling": true, "KMSThrottlingException": true,
		// Server side.
		"InternalError": true, "InternalFailure": true, "InternalErrorException": true,
		"InternalServiceErrorException": true, "ServiceUnavailable": true, "ServiceUnavailableException": true,
		"RequestTimeout": true, "RequestTimeoutException": true,
		// The account or its configuration, not the message.
		"AccountSuspendedException": true, "SendingPausedException": true,
		"MailFromDomainNotVerifiedException": true, "AuthorizationError": true, "AccessDenied": true,
		"AccessDeniedException": true, "InvalidClientTokenId": true, "UnrecognizedClientException": true,
		"ExpiredToken": true, "ExpiredTokenException": true, "SignatureDoesNotMatch": true,
		"PlatformApplicationDisabled": true, "KMSAccessDenied": true, "KMSDisabled": true,
		"KMSInvalidState": true, "KMSNotFound": true, "KMSOptInRequired": true, "InvalidSecurity": true,
		// A configuration set, platform application or endpoint that is not
		// there (an endpoint deleted between CreatePlatformEndpoint and
		// Publish is created again on retry).
		"NotFound": true, "NotFoundException": true, "ResourceNotFound": true,
	}
	// permanentCodes are about the message or its recipient: retrying the
	// same message cannot succeed.
	permanentCodes = map[string]bool{
		"MessageRejected": true, "BadRequestException": true,
		"InvalidParameter": true, "InvalidParameterValue": true, "ParameterValueInvalid": true,
		"ValidationException": true, "ValidationError": true, "EndpointDisabled": true,
		"OptedOut": true, "UserError": true,
	}
)

// classifyAWS returns err as a sender returns it: marked apperr.MarkPermanent
// when it is permanent (see the package comment), unchanged otherwise. nil
// stays nil. An API error with a code of neither list is permanent when the
// fault is the client's (HTTP 4xx other than 429) and transient otherwise;
// an error without an API error (network, timeout, cancellation) is
// transient, except the SDK's own parameter validation, which is permanent.
func classifyAWS(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", op, err)
	if permanentAWS(err) {
		return apperr.MarkPermanent(err)
	}
	return err
}

func permanentAWS(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var invalid smithy.InvalidParamsError
	var invalidPtr *smithy.InvalidParamsError
	if errors.As(err, &invalid) || errors.As(err, &invalidPtr) {
		return true
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false // network, DNS, connection reset, …
	}
	code := apiErr.ErrorCode()
	switch {
	case transientCodes[code]:
		return false
	case permanentCodes[code]:
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		s := status.HTTPStatusCode()
		return s >= 400 && s < 500 && s != 429
	}
	return apiErr.ErrorFault() == smithy.FaultClient
}
