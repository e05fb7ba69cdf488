package httpapi

import (
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/notice"
)

// PreferencesRequest is the body of PUT
// /v1/patients/{patientId}/notification-preferences: every channel, true to
// receive messages on it, false to opt out.
type PreferencesRequest struct {
	SMS   *bool `json:"sms"`
	Email *bool `json:"email"`
	Push  *bool `json:"push"`
}

// PreferencesResponse is a patient's preferences: Default is true while the
// patient has never chosen (the defaults apply).
type PreferencesResponse struct {
	SMS       bool       `json:"sms"`
	Email     bool       `json:"email"`
	Push      bool       `json:"push"`
	Default   bool       `json:"default"`
	Devices   int        `json:"devices"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

func preferencesResponse(v app.PreferencesView) PreferencesResponse {
	return PreferencesResponse{
		SMS: v.SMS, Email: v.Email, Push: v.Push,
		Default: v.Default, Devices: v.Devices, UpdatedAt: v.UpdatedAt,
	}
}

// DeviceRequest is the optional body of PUT
// /v1/patients/{patientId}/devices/{token}.
type DeviceRequest struct {
	Platform string `json:"platform"`
}

// DeviceResponse is a registered device, without its token (personal data);
// Created says whether it was new.
type DeviceResponse struct {
	Platform     string    `json:"platform"`
	RegisteredAt time.Time `json:"registeredAt"`
	Created      bool      `json:"created"`
}

func deviceResponse(d notice.Device, created bool) DeviceResponse {
	return DeviceResponse{Platform: d.Platform, RegisteredAt: d.RegisteredAt, Created: created}
}

// RemovedResponse is {"removed":true}.
type RemovedResponse struct {
	Removed bool `json:"removed"`
}

// DeliveryResponse is one entry of a visit's delivery log: no message body,
// no contact detail.
type DeliveryResponse struct {
	JobID             string    `json:"jobId"`
	Kind              string    `json:"kind"`
	Channel           string    `json:"channel"`
	Status            string    `json:"status"`
	Attempts          int       `json:"attempts"`
	ProviderMessageID string    `json:"providerMessageId,omitempty"`
	Reason            string    `json:"reason,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

func deliveryResponse(d notice.Delivery) DeliveryResponse {
	return DeliveryResponse{
		JobID: d.JobID, Kind: string(d.Kind), Channel: string(d.Channel), Status: string(d.Status),
		Attempts: d.Attempts, ProviderMessageID: d.ProviderMessageID, Reason: d.Reason,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}
