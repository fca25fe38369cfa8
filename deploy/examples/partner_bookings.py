#!/usr/bin/env python3
"""A partner's system listing the bookings of its own offerings at a centre.

It speaks Linli's gRPC on the partner port over mutual TLS: the client certificate is
the partner's identity (registered with the district), and the agreement at the centre
decides what it may read. No token, no header: the certificate is all.

Stubs are generated from Linli's `proto/` at start with grpcio-tools, so the example
always matches the contracts it ships with:

    python3 -m venv .venv && .venv/bin/pip install grpcio grpcio-tools
    .venv/bin/python deploy/examples/partner_bookings.py \
        --address 127.0.0.1:50443 --ca deploy/partners/ca.pem \
        --cert deploy/partners/acme.pem --key deploy/partners/acme.key \
        --centre 6b1c...-centre-uuid

Prints one JSON line per booking; exits 1 with the gRPC status when refused.
"""

import argparse
import importlib
import json
import pathlib
import sys
import tempfile

import grpc
from grpc_tools import protoc

try:
    from importlib.resources import files as resource_files
except ImportError:  # Python < 3.9
    resource_files = None

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTO = "linli/bookings/v1/bookings.proto"


def load_stubs(out_dir):
    """Compiles bookings.proto into out_dir and imports the generated modules."""
    well_known = str(resource_files("grpc_tools") / "_proto")
    code = protoc.main([
        "grpc_tools.protoc",
        f"-I{ROOT / 'proto'}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(ROOT / "proto" / PROTO),
    ])
    if code != 0:
        sys.exit(f"protoc could not compile {PROTO}")
    sys.path.insert(0, out_dir)
    messages = importlib.import_module("linli.bookings.v1.bookings_pb2")
    services = importlib.import_module("linli.bookings.v1.bookings_pb2_grpc")
    return messages, services


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1:50443", help="the partner gRPC port")
    parser.add_argument("--ca", required=True, help="CA that signed Linli's listener certificate")
    parser.add_argument("--cert", required=True, help="the partner's client certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--centre", required=True, help="the centre's id")
    parser.add_argument("--offering", default="", help="only this offering's bookings")
    parser.add_argument("--server-name", default="localhost",
                        help="the name in the listener's certificate")
    args = parser.parse_args()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=pathlib.Path(args.ca).read_bytes(),
        private_key=pathlib.Path(args.key).read_bytes(),
        certificate_chain=pathlib.Path(args.cert).read_bytes(),
    )
    options = [("grpc.ssl_target_name_override", args.server_name)]
    with tempfile.TemporaryDirectory() as out_dir:
        messages, services = load_stubs(out_dir)
        with grpc.secure_channel(args.address, credentials, options=options) as channel:
            bookings = services.BookingsStub(channel)
            token = ""
            while True:
                try:
                    page = bookings.ListBookings(
                        messages.ListBookingsRequest(
                            centre_id=args.centre,
                            offering_id=args.offering,
                            page_size=100,
                            page_token=token,
                        ),
                        timeout=10,
                    )
                except grpc.RpcError as error:
                    print(f"refused: {error.code().name}: {error.details()}", file=sys.stderr)
                    return 1
                for booking in page.bookings:
                    print(json.dumps({
                        "id": booking.id,
                        "offering_id": booking.offering_id,
                        "status": messages.BookingStatus.Name(booking.status),
                        "seats": [seat.session_id for seat in booking.seats],
                    }, ensure_ascii=False))
                token = page.next_page_token
                if not token:
                    return 0


if __name__ == "__main__":
    sys.exit(main())
