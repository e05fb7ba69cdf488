package dynamo

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/labchain/appointments/shared/domain"
)

// TestIndexCellsMigratesOldCells: a cell item written before cells carried
// their GSI1 range keys is invisible to OccupancyRange until IndexCells adds
// the keys; a second run indexes nothing.
func TestIndexCellsMigratesOldCells(t *testing.T) {
	s, raw := newStore(t)
	ctx := context.Background()
	start := at(1, 9, 0)
	c := domain.Cell{ResourceID: "res_a", Start: start.UTC(), Date: start.Format(dateLayout)}
	old := cellItem("br_1", c, "apt_old")
	delete(old, attrGSI1PK)
	delete(old, attrGSI1SK)
	if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: old}); err != nil {
		t.Fatal(err)
	}
	occ, err := s.OccupancyRange(ctx, "br_1", c.Date, c.Date)
	if err != nil || len(occ) != 0 {
		t.Fatalf("before migration: %v %v, want the old cell missing from the index", occ, err)
	}
	if n, err := s.IndexCells(ctx, "br_1", []string{c.Date}); err != nil || n != 1 {
		t.Fatalf("IndexCells = %d, %v; want 1", n, err)
	}
	occ, err = s.OccupancyRange(ctx, "br_1", c.Date, c.Date)
	if err != nil || occ[domain.CellKey{ResourceID: "res_a", Start: start.Unix()}] != "apt_old" {
		t.Fatalf("after migration: %v %v, want the old cell held by apt_old", occ, err)
	}
	if n, err := s.IndexCells(ctx, "br_1", []string{c.Date}); err != nil || n != 0 {
		t.Fatalf("second IndexCells = %d, %v; want 0", n, err)
	}
}
