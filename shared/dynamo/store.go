// Package dynamo is the DynamoDB single-table implementation of app.Store and
// app.IdempotencyStore. The key design is documented in keys.go.
//
// Bookings are atomic: CreateAppointment and UpdateAppointment each run one
// TransactWriteItems in which every cell to take is written with
// attribute_not_exists, so two appointments can never hold the same cell, and
// the request's idempotency record is completed and the change's event
// written to the outbox in the same transaction (see outbox.go).
// Reads that feed booking decisions (catalog, occupancy, appointment) are
// strongly consistent; list queries use GSIs and are eventually consistent.
// A booking may be planned on a catalog the use cases cached: its
// transaction then checks the catalog version (catalog_version.go). It also
// checks the patient's cap on upcoming visits (patient_visits.go).
package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

var (
	_ app.Store            = (*Store)(nil)
	_ app.IdempotencyStore = (*Store)(nil)
)

// Client is the part of *dynamodb.Client the store uses. Production code
// passes the *dynamodb.Client built once at cold start; a test may wrap it to
// inject faults.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// Store is the single-table store. It is safe for concurrent use.
type Store struct {
	db    Client
	table *string
}

// New returns a store over table. Build client once (at cold start) and share
// it; New itself is cheap. Errors the SDK still returns after its retries
// for throttling or a busy server become TEMPORARILY_UNAVAILABLE (transient.go).
func New(client Client, table string) *Store {
	return &Store{db: classifying{client}, table: aws.String(table)}
}

// Table returns the table name.
func (s *Store) Table() string { return *s.table }

// PutBranch creates a branch; CONFLICT if the id exists.
func (s *Store) PutBranch(ctx context.Context, b domain.Branch) error {
	item := branchItem(b).stamp(branchPK(b.ID), skMeta, entityBranch)
	item[attrGSI1PK] = avS(gsi1Branches)
	item[attrGSI1SK] = avS(branchGSI1SK(b))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return apperr.E(apperr.Conflict, "branch %s already exists", b.ID)
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: put branch %s", b.ID)
	}
	return nil
}

// GetBranch returns a branch or NOT_FOUND.
func (s *Store) GetBranch(ctx context.Context, id string) (domain.Branch, error) {
	b, found, err := get(ctx, s, branchPK(id), skMeta, branchFrom)
	if err != nil {
		return b, apperr.Wrap(err, "dynamo: get branch %s", id)
	}
	if !found {
		return b, apperr.E(apperr.NotFound, "branch %s not found", id)
	}
	return b, nil
}

// ListBranches returns all branches ordered by name (case-insensitively, then
// by id).
func (s *Store) ListBranches(ctx context.Context) ([]domain.Branch, error) {
	return queryList(ctx, s, branchFrom, &dynamodb.QueryInput{
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(gsi1Branches)},
	}, "branches")
}

// queryList runs a query to its last page and decodes every item with
// decode; what names the list in errors. The result is never nil.
func queryList[T any](ctx context.Context, s *Store, decode func(map[string]types.AttributeValue) (T, error), in *dynamodb.QueryInput, what string) ([]T, error) {
	out := []T{}
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		v, err := decode(item)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "dynamo: list %s", what)
	}
	return out, nil
}

// PutHours replaces a branch's hours and bumps its catalog version in one
// transaction; NOT_FOUND if the branch does not exist.
func (s *Store) PutHours(ctx context.Context, branchID string, h domain.Hours) error {
	item := hoursItem(h).stamp(branchPK(branchID), skHours, entityHours)
	return s.putCatalogItem(ctx, branchID, item, "put hours of "+branchID)
}

// putCatalogItem writes an item of branchID's catalog with the catalog
// version bump and the branch-exists check (catalog_version.go).
func (s *Store) putCatalogItem(ctx context.Context, branchID string, item map[string]types.AttributeValue, what string) error {
	var b txBuilder
	s.catalogWrite(&b, branchID)
	b.add(roleCatalog, types.TransactWriteItem{Put: &types.Put{TableName: s.table, Item: item}})
	err := s.transact(ctx, &b, what)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.E(apperr.NotFound, "branch %s not found", branchID)
	}
	return err
}

// GetHours returns a branch's hours, the zero Hours if never set.
func (s *Store) GetHours(ctx context.Context, branchID string) (domain.Hours, error) {
	h, _, err := get(ctx, s, branchPK(branchID), skHours, hoursFrom)
	if err != nil {
		return domain.Hours{}, apperr.Wrap(err, "dynamo: get hours of %s", branchID)
	}
	return h, nil
}

// PutResource creates or replaces a resource and bumps its branch's catalog
// version in one transaction; NOT_FOUND if the branch does not exist.
func (s *Store) PutResource(ctx context.Context, r domain.Resource) error {
	item := resourceItem(r).stamp(branchPK(r.BranchID), resourceSK(r.ID), entityResource)
	return s.putCatalogItem(ctx, r.BranchID, item, "put resource "+r.ID)
}

// GetResource returns a resource of a branch or NOT_FOUND.
func (s *Store) GetResource(ctx context.Context, branchID, id string) (domain.Resource, error) {
	r, found, err := get(ctx, s, branchPK(branchID), resourceSK(id), resourceFrom)
	if err != nil {
		return r, apperr.Wrap(err, "dynamo: get resource %s", id)
	}
	if !found {
		return r, apperr.E(apperr.NotFound, "resource %s not found", id)
	}
	return r, nil
}

// ListResources returns a branch's resources ordered by id.
func (s *Store) ListResources(ctx context.Context, branchID string) ([]domain.Resource, error) {
	return queryList(ctx, s, resourceFrom, beginsWith(branchPK(branchID), prefixRes), "resources of "+branchID)
}

// PutService creates or replaces a service and bumps its branch's catalog
// version in one transaction; NOT_FOUND if the branch does not exist.
func (s *Store) PutService(ctx context.Context, svc domain.Service) error {
	item := serviceItem(svc).stamp(branchPK(svc.BranchID), serviceSK(svc.ID), entityService)
	return s.putCatalogItem(ctx, svc.BranchID, item, "put service "+svc.ID)
}

// ListServices returns a branch's services ordered by id.
func (s *Store) ListServices(ctx context.Context, branchID string) ([]domain.Service, error) {
	return queryList(ctx, s, serviceFrom, beginsWith(branchPK(branchID), prefixSvc), "services of "+branchID)
}

// LoadCatalog returns branch, hours, resources (by id), services (by id) and
// the catalog version (catalog_version.go) with one Query of the branch's
// partition; NOT_FOUND when the branch does not
// exist.
func (s *Store) LoadCatalog(ctx context.Context, branchID string) (domain.Catalog, error) {
	var c domain.Catalog
	found := false
	c.Resources = []domain.Resource{}
	c.Services = []domain.Service{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(branchPK(branchID))},
	}, func(item map[string]types.AttributeValue) (err error) {
		switch sk := str(item, attrSK); {
		case sk == skCatalog:
			c.Version = num(item, attrCatalogVer)
		case sk == skMeta:
			found = true
			c.Branch, err = branchFrom(item)
		case sk == skHours:
			c.Hours, err = hoursFrom(item)
		case len(sk) > len(prefixRes) && sk[:len(prefixRes)] == prefixRes:
			var r domain.Resource
			if r, err = resourceFrom(item); err == nil {
				c.Resources = append(c.Resources, r)
			}
		case len(sk) > len(prefixSvc) && sk[:len(prefixSvc)] == prefixSvc:
			var svc domain.Service
			if svc, err = serviceFrom(item); err == nil {
				c.Services = append(c.Services, svc)
			}
		}
		return err
	})
	if err != nil {
		return domain.Catalog{}, apperr.Wrap(err, "dynamo: load catalog of %s", branchID)
	}
	if !found {
		return domain.Catalog{}, apperr.E(apperr.NotFound, "branch %s not found", branchID)
	}
	return c, nil
}

// get reads one item strongly consistently and decodes it with decode;
// found is false (and v zero) if absent.
func get[T any](ctx context.Context, s *Store, pk, sk string, decode func(map[string]types.AttributeValue) (T, error)) (v T, found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      s.table,
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return v, false, err
	}
	v, err = decode(out.Item)
	return v, true, err
}

// queryAll runs a query to its end, page by page, calling fn for each item.
// Queries of the base table are strongly consistent. in is modified.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	in.TableName = s.table
	if in.IndexName == nil {
		in.ConsistentRead = aws.Bool(true)
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func beginsWith(pk, prefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     avS(pk),
			":prefix": avS(prefix),
		},
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: avS(pk), attrSK: avS(sk)}
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
