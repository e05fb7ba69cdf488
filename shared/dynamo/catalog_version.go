package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
)

// The catalog version item (PK BRANCH#<id>, SK #CATALOG, attribute v) lets
// a booking planned on a cached catalog require, in its own transaction,
// that the catalog is still the one it planned on: every catalog write
// (hours, resource, service) adds 1 to v in the transaction that writes it,
// on condition that the branch exists; a booking carries a ConditionCheck
// v = <version it planned on> (attribute_not_exists(v) for version 0, a
// branch whose catalog was written before versions existed, or never).
//
// LoadCatalog reads the version in the same Query as the catalog. #CATALOG
// sorts before #HOURS, #META, RES# and SVC#, so the version is read first:
// a catalog write that commits after that read bumps the version past the
// one cached, and its booking check fails; one committed before is seen by
// the rest of the Query. So a cached (version, catalog) pair may pair an
// older version with newer data, which fails safe, never the reverse.
const (
	skCatalog      = "#CATALOG"
	entityCatalog  = "CATALOG_VERSION"
	attrCatalogVer = "v"
	catalogChanged = "the branch's catalog changed; retry"
	branchMissing  = "branch not found"
)

// catalogWrite adds to b the version bump of branchID's catalog and the
// check that the branch exists (NOT_FOUND otherwise).
func (s *Store) catalogWrite(b *txBuilder, branchID string) {
	b.add(roleBranch, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:           s.table,
		Key:                 key(branchPK(branchID), skMeta),
		ConditionExpression: aws.String("attribute_exists(PK)"),
	}})
	b.add(roleCatalog, types.TransactWriteItem{Update: &types.Update{
		TableName:                 s.table,
		Key:                       key(branchPK(branchID), skCatalog),
		UpdateExpression:          aws.String("ADD #v :one SET #e = :e"),
		ExpressionAttributeNames:  map[string]string{"#v": attrCatalogVer, "#e": attrEntity},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": avN(1), ":e": avS(entityCatalog)},
	}})
}

// catalogCheck is the booking's check that branchID's catalog is still at
// version.
func (s *Store) catalogCheck(branchID string, version int64) types.TransactWriteItem {
	cc := &types.ConditionCheck{
		TableName:                s.table,
		Key:                      key(branchPK(branchID), skCatalog),
		ConditionExpression:      aws.String("attribute_not_exists(#v)"),
		ExpressionAttributeNames: map[string]string{"#v": attrCatalogVer},
	}
	if version != 0 {
		cc.ConditionExpression = aws.String("#v = :v")
		cc.ExpressionAttributeValues = map[string]types.AttributeValue{":v": avN(version)}
	}
	return types.TransactWriteItem{ConditionCheck: cc}
}

// errCatalogChanged is the error of a booking whose catalog check failed.
func errCatalogChanged() error {
	return &apperr.Error{Code: apperr.Conflict, Message: catalogChanged, Err: app.ErrCatalogChanged}
}
