package Voxanne::Test::CallRows;

# A call's rows written as the gateway writes them (sql/004, 005, 008), as
# a member of voxanne_app under one tenant's row-level security, and what
# PostgreSQL derives from them (sql/008: outcome, transfer, value, contact,
# lead status).
#
#   my $rows = Voxanne::Test::CallRows->new($pg, $org);
#   $rows->call($sid, 'completed', $at, from => '+1...');
#   $rows->event($sid, 'tool:1', 'tool', { ok => \1, outcome => 'booked' }, $at);
#   $rows->turn($sid, 0, 'caller', 'text', $at);
#   $rows->vapi_call($id, { status => 'ended', ... }, $at);
#   $rows->vapi_report($id, { turns => [...], ... }, $at);
#   $rows->outcome(call_sid => $sid);  # "outcome|transfer_to|reason|value"
#   $rows->lead('+1...');               # "lead_status|last_contacted_at"

use strict;
use warnings;

use JSON::PP ();

my $JSON = JSON::PP->new->canonical;

sub new {
    my ($class, $pg, $org) = @_;
    return bless { pg => $pg, org => $org }, $class;
}

sub org { $_[0]{org} }

# a SQL string literal, or NULL
sub quote {
    my ($s) = @_;
    return 'NULL' unless defined $s;
    $s =~ s/'/''/g;
    return "'$s'";
}

sub sql {
    my ($self, $sql) = @_;
    return $self->{pg}->psql("SET ROLE voxanne_app; SET app.org_id = '$self->{org}'; $sql");
}

sub call {
    my ($self, $sid, $status, $at, %o) = @_;
    $self->sql(sprintf "SELECT voxanne_record_call(%s, %s, %s, %s, %s, %s, %s)",
               quote($self->{org}), quote($sid),
               quote($o{from} // '+14155550123'), quote($o{to} // '+15550100001'),
               quote($status), quote($at), $o{duration} // 'NULL');
}

sub event {
    my ($self, $sid, $key, $type, $payload, $at) = @_;
    $self->sql(sprintf "SELECT voxanne_record_event(%s, %s, %s, %s, %s, %s)",
               quote($self->{org}), quote($sid), quote($key), quote($type),
               quote($JSON->encode($payload // {})), quote($at));
}

sub turn {
    my ($self, $sid, $seq, $role, $text, $at) = @_;
    $self->sql(sprintf "SELECT voxanne_record_turn(%s, %s, %d, %s, %s, %s)",
               quote($self->{org}), quote($sid), $seq, quote($role), quote($text), quote($at));
}

sub vapi_call {
    my ($self, $id, $data, $at) = @_;
    $self->sql(sprintf "SELECT voxanne_record_vapi_call(%s, %s, %s, %s)",
               quote($self->{org}), quote($id), quote($JSON->encode($data)), quote($at));
}

sub vapi_report {
    my ($self, $id, $data, $at) = @_;
    $self->sql(sprintf "SELECT voxanne_record_vapi_report(%s, %s, %s, %s)",
               quote($self->{org}), quote($id), quote($JSON->encode($data)), quote($at));
}

# what was derived for the call whose $column is $id
sub outcome {
    my ($self, $column, $id) = @_;
    return $self->{pg}->psql("SELECT concat_ws('|', coalesce(outcome, '-'), coalesce(transfer_to, '-'),"
                             . " coalesce(transfer_reason, '-'), coalesce(financial_value::text, '-'))"
                             . " FROM calls WHERE $column = " . quote($id));
}

sub lead {
    my ($self, $phone) = @_;
    return $self->{pg}->psql("SELECT concat_ws('|', lead_status, coalesce(last_contacted_at::text, '-'))"
                             . " FROM contacts WHERE org_id = " . quote($self->{org})
                             . " AND phone = " . quote($phone));
}

1;
