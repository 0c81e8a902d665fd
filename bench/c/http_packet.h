/* SPDX-License-Identifier: GPL-2.0 */
/* The frame both sides of the trace_http loss bench feed the XDP program through
 * BPF_PROG_TEST_RUN (bench/http-loss.ts builds the same bytes): Ethernet + IPv4 + TCP
 * 10.0.0.1:40000 -> 10.0.0.2:80 carrying an HTTP GET. Every run makes trace_http emit one
 * request_event (RequestInfo + payload offset + size) followed by the frame. */
#ifndef TSBPF_HTTP_PACKET_H
#define TSBPF_HTTP_PACKET_H

#include <stdint.h>
#include <string.h>

#define HTTP_SPORT 40000
#define HTTP_DPORT 80
#define HTTP_SADDR 0x0a000001u /* host order */
#define HTTP_DADDR 0x0a000002u
#define HTTP_PAYLOAD_OFF 54 /* 14 Ethernet + 20 IPv4 + 20 TCP */
static const char HTTP_REQUEST[] = "GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n";
#define HTTP_FRAME_LEN (HTTP_PAYLOAD_OFF + sizeof(HTTP_REQUEST) - 1)

static inline void http_frame(uint8_t *f)
{
	memset(f, 0, HTTP_FRAME_LEN);
	f[12] = 0x08; /* ETH_P_IP */
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	uint16_t tot = (uint16_t)(HTTP_FRAME_LEN - 14);
	ip[2] = tot >> 8;
	ip[3] = tot & 0xff;
	ip[8] = 64;
	ip[9] = 6; /* TCP */
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(HTTP_SADDR >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(HTTP_DADDR >> (24 - 8 * i));
	}
	uint8_t *tcp = ip + 20;
	tcp[0] = HTTP_SPORT >> 8;
	tcp[1] = HTTP_SPORT & 0xff;
	tcp[2] = HTTP_DPORT >> 8;
	tcp[3] = HTTP_DPORT & 0xff;
	tcp[12] = 5 << 4; /* data offset: 20 bytes */
	tcp[13] = 0x18;   /* PSH|ACK */
	memcpy(f + HTTP_PAYLOAD_OFF, HTTP_REQUEST, sizeof(HTTP_REQUEST) - 1);
}

#endif
