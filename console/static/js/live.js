// Live updates over the graphql-transport-ws protocol on /graphql (实时推送): one socket per
// subscription a page asks for, the token sent in connection_init's payload (browsers set no
// headers on a WebSocket). The listener returns false once its page is gone, which closes the
// socket; leaving the page closes it too.

import { session } from './session.js';

const SUBSCRIPTION_RECORD_CHANGES = `
subscription RecordChanges { recordChanges { recordId kind source regionCode change committedAt } }`;
const SUBSCRIPTION_RISK_ALERTS = `
subscription RiskAlerts { riskAlerts { targetId kinds regionCode level previous raisedAt } }`;

// `field` is the subscription's root field; `onState` hears 'open', 'closed' or 'error'.
function subscribe(query, field, listener, onState = () => {}) {
  const token = session.token();
  if (!token || !('WebSocket' in window)) { onState('error'); return () => {}; }
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let leaving = false;
  const close = () => { leaving = true; if (socket.readyState <= 1) socket.close(1000); };
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
  });
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      onState('open');
    } else if (message.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong' }));
    } else if (message.type === 'next' && message.payload?.data) {
      if (listener(message.payload.data[field]) === false) close();
    } else if (message.type === 'error' || (message.type === 'next' && message.payload?.errors)) {
      onState('error');
    }
  });
  socket.addEventListener('close', () => { if (!leaving) onState('closed'); });
  window.addEventListener('hashchange', close, { once: true });
  return close;
}

export function watchRecords(listener) {
  return subscribe(SUBSCRIPTION_RECORD_CHANGES, 'recordChanges', listener);
}

export function watchRiskAlerts(listener, onState) {
  return subscribe(SUBSCRIPTION_RISK_ALERTS, 'riskAlerts', listener, onState);
}

const SUBSCRIPTION_MATTER_EVENTS = `
subscription MatterEvents { matterEvents { matterId kind step regionCode at } }`;

export function watchMatters(listener, onState) {
  return subscribe(SUBSCRIPTION_MATTER_EVENTS, 'matterEvents', listener, onState);
}
